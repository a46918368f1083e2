import { parseArgs } from 'util';

/** Where a command writes: stdout and stderr (the tests capture both). */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/**
 * The exit codes of every command (printed by `cdk-eks-access --help`):
 * 0 done (for `import`: also with warnings), 1 the command's gate failed
 * (`report --check` found something, `plan` says the deploy would be refused),
 * 2 the command line or an input could not be used.
 */
export const EXIT_OK = 0;
export const EXIT_GATE = 1;
export const EXIT_USAGE = 2;

/** One option of a command, as `util.parseArgs` takes it, with its help line. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's name in the help, e.g. `FILE`. */
  readonly value?: string;
  readonly help: string;
}

/** One subcommand. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The usage line's arguments, e.g. `FILE [--var NAME]`. */
  readonly synopsis: string;
  /** Paragraphs after the options in `--help`. */
  readonly description: string;
  readonly options: Record<string, OptionSpec>;
  /** Positional arguments: at most this many. */
  readonly maxPositionals: number;
  /** Positional arguments: at least this many. */
  readonly minPositionals: number;
  run(values: Record<string, string | boolean | undefined>, positionals: string[], io: Io): number;
}

/** A problem with the command line or an input: printed, exit code 2. */
export class UsageError extends Error {}

/** The `--help` text of a command. */
export function helpOf(command: Command): string {
  const lines = [`usage: cdk-eks-access ${command.name} ${command.synopsis}`, '', command.summary, ''];
  const flags = Object.entries(command.options).map(([name, o]) => [`--${name}${o.value ? ` ${o.value}` : ''}`, o.help]);
  flags.push(['--help', 'print this help']);
  const width = Math.max(...flags.map(([f]) => f.length));
  for (const [flag, text] of flags) lines.push(`  ${flag.padEnd(width)}  ${text}`);
  return `${lines.join('\n')}\n\n${command.description.trim()}\n`;
}

/** Parses a command's arguments with `util.parseArgs` (strict) and runs it; returns the exit code. */
export function runCommand(command: Command, argv: string[], io: Io): number {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
    for (const [name, o] of Object.entries(command.options)) options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    io.err(`cdk-eks-access ${command.name}: ${(e as Error).message}\n\n${helpOf(command)}`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    io.out(helpOf(command));
    return EXIT_OK;
  }
  const n = parsed.positionals.length;
  if (n < command.minPositionals || n > command.maxPositionals) {
    const got = n === 0 ? 'none' : parsed.positionals.map(p => JSON.stringify(p)).join(', ');
    const range = command.minPositionals === command.maxPositionals ? `${command.minPositionals}` : `${command.minPositionals} to ${command.maxPositionals}`;
    io.err(`cdk-eks-access ${command.name}: takes ${range} argument(s) besides options (${command.synopsis}), got ${got}\n\n${helpOf(command)}`);
    return EXIT_USAGE;
  }
  try {
    return command.run(parsed.values, parsed.positionals, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`cdk-eks-access ${command.name}: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
