import { Command, EXIT_OK, EXIT_USAGE, Io, runCommand } from './command';
import { importCommand } from './import';
import { planCommand } from './plan';
import { reportCommand } from './report';

/** The commands, in the order `--help` lists them (the order of adopting a cluster, then reviewing). */
const COMMANDS: Command[] = [importCommand, planCommand, reportCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map(c => c.name.length));
  return [
    'usage: cdk-eks-access <command> [arguments] [--help]',
    '',
    'Commands:',
    ...COMMANDS.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    '`cdk-eks-access <command> --help` describes a command.',
    '',
    'Exit codes (every command):',
    '  0  done (import: also when it printed warnings)',
    '  1  the command\'s gate failed: report --check found something; plan: the deploy would be refused',
    '  2  bad arguments, or an input that cannot be read',
    '',
  ].join('\n');
}

/** Runs the command line; returns the exit code. */
export function main(
  argv: string[],
  out: (text: string) => void = t => process.stdout.write(t),
  err: (text: string) => void = t => process.stderr.write(t),
): number {
  const io: Io = { out, err };
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    out(usage());
    return EXIT_OK;
  }
  const command = COMMANDS.find(c => c.name === name);
  if (!command) {
    err(`${name === undefined ? 'cdk-eks-access: no command given' : `cdk-eks-access: unknown command ${JSON.stringify(name)}`}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  return runCommand(command, rest, io);
}
