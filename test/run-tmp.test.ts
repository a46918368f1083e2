import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';

/** The run's temporary files go to one directory that the global teardown removes (test/run-tmp.ts). */
test('temporary directories of a test run, the synthesized apps\' included, are inside the run\'s own directory', () => {
  const run = os.tmpdir();
  expect(path.basename(run)).toMatch(/^cdk-eks-access-test-run-/);
  const app = new App();
  new Stack(app, 'S');
  expect(app.synth().directory.startsWith(run + path.sep)).toBe(true);
});
