import { run } from './run';

describe('the command line', () => {
  test('--help lists the commands and the exit codes; each command has its own --help', () => {
    const top = run('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^ {2}import {2}/m);
    expect(top.stdout).toMatch(/^ {2}plan {4}/m);
    expect(top.stdout).toMatch(/^ {2}report {2}/m);
    expect(top.stdout).toMatch(/Exit codes[\s\S]*0 {2}done[\s\S]*1 {2}[\s\S]*2 {2}bad arguments/);
    for (const command of ['import', 'plan', 'report']) {
      const help = run(command, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: cdk-eks-access ${command} `));
      expect(help.stdout).toMatch(/Exit codes: 0 /);
    }
  });

  test.each([
    [[], /no command given/],
    [['bogus'], /unknown command "bogus"/],
    [['import'], /import: takes 1 argument\(s\) besides options/],
    [['import', 'a', 'b'], /got "a", "b"/],
    [['report', '--max-admins'], /--max-admins/],
  ])('%j: exit 2 with the usage', (argv, message) => {
    const result = run(...argv);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
