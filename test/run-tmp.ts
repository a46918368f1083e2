import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * One temporary directory per test run: jest's global setup points TMPDIR at it before the
 * workers start (they and everything they spawn inherit it, and `os.tmpdir()` follows it), and
 * the global teardown removes it. The apps the tests synthesize (aws-cdk-lib's `cdk.out*`),
 * and the CLI tests' and the real components' directories, would otherwise stay in the
 * machine's /tmp: about 700 directories, 150 MB, a run.
 */
const RUN_TMP_ENV = 'CDK_EKS_ACCESS_RUN_TMP';

export function useRunTmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-eks-access-test-run-'));
  process.env[RUN_TMP_ENV] = dir;
  process.env.TMPDIR = dir;
  return dir;
}

export function removeRunTmpDir(): void {
  const dir = process.env[RUN_TMP_ENV];
  if (!dir || !path.basename(dir).startsWith('cdk-eks-access-test-run-')) return;
  fs.rmSync(dir, { recursive: true, force: true });
  delete process.env[RUN_TMP_ENV];
}

// a run that ends abruptly removes it too
process.once('exit', removeRunTmpDir);
