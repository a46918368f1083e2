import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// .ci/run's preflight: the tools the tests need are checked with a message each, and the
// commands CI runs are README's first two sh blocks (so they cannot drift apart).

const ROOT = path.join(__dirname, '..');
const made: string[] = [];
afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A copy of .ci/run and README.md (optionally edited) in a temporary project folder. */
function project(readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-run-'));
  made.push(dir);
  fs.mkdirSync(path.join(dir, '.ci'));
  fs.copyFileSync(path.join(ROOT, '.ci', 'run'), path.join(dir, '.ci', 'run'));
  fs.writeFileSync(path.join(dir, 'README.md'), readme);
  return dir;
}

/** PATH with `tool` hidden: each folder holding it is replaced by links to everything else in it. */
function pathWithout(tool: string): string {
  return (process.env.PATH ?? '').split(path.delimiter).map((dir) => {
    if (!fs.existsSync(path.join(dir, tool))) return dir;
    const shadow = fs.mkdtempSync(path.join(os.tmpdir(), `no-${tool}-`));
    made.push(shadow);
    for (const name of fs.readdirSync(dir)) {
      if (name !== tool) fs.symlinkSync(path.join(dir, name), path.join(shadow, name));
    }
    return shadow;
  }).join(path.delimiter);
}

/** The environment without a developer's CDK_EKS_ACCESS_REAL=off (which the preflight refuses). */
const { CDK_EKS_ACCESS_REAL: _real, ...ENV } = process.env;

function preflight(dir: string, env: NodeJS.ProcessEnv = ENV) {
  return spawnSync('bash', [path.join(dir, '.ci', 'run'), '--preflight'], { env, encoding: 'utf8', input: '' });
}

test('passes with every tool present and README as it is', () => {
  const result = preflight(project());
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});

test.each([
  ['cfn-lint', 'pip install cfn-lint'],
  ['moto_server', "pip install 'moto[server]'"],
  ['openssl', 'apt-get install openssl'],
  ['go', 'https://go.dev/doc/install'],
  ['python3', 'apt-get install python3-venv'],
  ['java', 'apt-get install openjdk-17-jdk'],
  ['mvn', 'apt-get install maven'],
  ['zip', 'apt-get install zip'],
])('fails naming %s when it is missing', (tool, fix) => {
  // GIVEN a PATH without the tool
  const env = { ...ENV, PATH: pathWithout(tool) };
  // WHEN
  const result = preflight(project(), env);
  // THEN
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(`${tool} not found`);
  expect(result.stderr).toContain(fix);
});

test.each([
  ['first', 'npm ci && npx projen synth:examples', 'npm install && npx projen synth:examples'],
  ['second', 'npm ci && npx projen build', 'npm ci && npx projen test'],
])('fails when README\'s %s sh block differs from what CI runs', (which, written, edited) => {
  // GIVEN a README whose command was changed without .ci/run
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain('```sh\n' + written + '\n```');
  // WHEN
  const result = preflight(project(readme.replace('```sh\n' + written + '\n```', '```sh\n' + edited + '\n```')));
  // THEN
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(`README's ${which} sh block is '${edited}'`);
});

test('refuses the developer opt-out of the real components', () => {
  const result = preflight(project(), { ...ENV, CDK_EKS_ACCESS_REAL: 'off' });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('CDK_EKS_ACCESS_REAL=off skips the tests judged by the real components');
});

test('fails when another sh block comes before the set-up commands', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const result = preflight(project(readme.replace('## Set up', '```sh\nnpm install cdk-eks-access\n```\n\n## Set up')));
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("README's first sh block is 'npm install cdk-eks-access'");
});
