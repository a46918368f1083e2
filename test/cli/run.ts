import { main } from '../../src/cli';

/** Runs the command line in-process; returns its exit code and what it wrote. */
export function run(...argv: string[]): { status: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const status = main(argv, t => (stdout += t), t => (stderr += t));
  return { status, stdout, stderr };
}
