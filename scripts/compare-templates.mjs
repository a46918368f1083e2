// Compares two synthesized templates as JSON after removing only what records how they were
// made: the AWS::CDK::Metadata resource, its condition and every resource's Metadata.
//   node scripts/compare-templates.mjs EXPECTED.json ACTUAL.json LABEL
// Exits 1 naming the first differences.
import * as fs from 'fs';
import { isDeepStrictEqual } from 'util';

const [expectedFile, actualFile, label] = process.argv.slice(2);
const strip = (file) => {
  const t = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const [id, r] of Object.entries(t.Resources ?? {})) {
    if (r.Type === 'AWS::CDK::Metadata') delete t.Resources[id];
    else delete r.Metadata;
  }
  if (t.Conditions) delete t.Conditions.CDKMetadataAvailable;
  return t;
};
const expected = strip(expectedFile);
const actual = strip(actualFile);
if (isDeepStrictEqual(expected, actual)) {
  console.log(`${label}: template equal to TypeScript's (${Object.keys(actual.Resources).length} resources)`);
  process.exit(0);
}
const differences = [];
const walk = (a, b, path) => {
  if (differences.length >= 10 || isDeepStrictEqual(a, b)) return;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], `${path}/${k}`);
  } else {
    differences.push(`  ${path}: TypeScript ${JSON.stringify(a)?.slice(0, 200)}, ${label} ${JSON.stringify(b)?.slice(0, 200)}`);
  }
};
walk(expected, actual, '');
console.error(`${label}: template differs from TypeScript's:\n${differences.join('\n')}`);
process.exit(1);
