// Compares two cloud assemblies' templates (every *.template.json, nested stacks included) as
// JSON, after removing only what records how they were made: the AWS::CDK::Metadata resource,
// its condition, and the aws:cdk:* and aws:asset:* keys of resources' Metadata.
//   node scripts/compare-templates.mjs EXPECTED_DIR ACTUAL_DIR LABEL
// Exits 1 naming the first differences (or the templates only one side has).
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';

const [expectedDir, actualDir, label] = process.argv.slice(2);
const templates = (dir) => fs.readdirSync(dir).filter(f => f.endsWith('.template.json')).sort();
const strip = (file) => {
  const t = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const [id, r] of Object.entries(t.Resources ?? {})) {
    if (r.Type === 'AWS::CDK::Metadata') { delete t.Resources[id]; continue; }
    if (!r.Metadata) continue;
    for (const key of Object.keys(r.Metadata)) if (/^aws:(cdk|asset):/.test(key)) delete r.Metadata[key];
    if (Object.keys(r.Metadata).length === 0) delete r.Metadata;
  }
  if (t.Conditions) delete t.Conditions.CDKMetadataAvailable;
  return t;
};

const names = templates(expectedDir);
if (!isDeepStrictEqual(names, templates(actualDir))) {
  console.error(`${label}: templates differ from TypeScript's: ${JSON.stringify(names)} vs ${JSON.stringify(templates(actualDir))}`);
  process.exit(1);
}
const differences = [];
const walk = (a, b, where) => {
  if (differences.length >= 10 || isDeepStrictEqual(a, b)) return;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], `${where}/${k}`);
  } else {
    differences.push(`  ${where}: TypeScript ${JSON.stringify(a)?.slice(0, 200)}, ${label} ${JSON.stringify(b)?.slice(0, 200)}`);
  }
};
let resources = 0;
for (const name of names) {
  const expected = strip(path.join(expectedDir, name));
  walk(expected, strip(path.join(actualDir, name)), name);
  resources += Object.keys(expected.Resources ?? {}).length;
}
if (differences.length > 0) {
  console.error(`${label}: template differs from TypeScript's:\n${differences.join('\n')}`);
  process.exit(1);
}
console.log(`${label}: ${names.length} templates equal to TypeScript's (${resources} resources)`);
