import * as fs from 'fs';
import { AccessReport } from '../access-report';

const USAGE = `usage: cdk-eks-access report [cdk.out] [--markdown FILE] [--json FILE] [--check] [--max-admins N]

Prints who can do what in every EKS cluster of a synthesized app (default directory: cdk.out).
  --markdown FILE   also write Markdown with a Mermaid diagram (principal -> group -> role -> namespace)
  --json FILE       also write the model as JSON
  --check           exit 1 when there are findings (pathed role ARNs in aws-auth, duplicate ARNs,
                    groups mapped but never bound, bindings to unmapped groups, too many cluster
                    admins, reserved prefixes)
  --max-admins N    the cluster-admin limit for --check (default 3)`;

/** Runs the command line; returns the exit code. */
export function main(
  argv: string[],
  out: (text: string) => void = t => process.stdout.write(t),
  err: (text: string) => void = t => process.stderr.write(t),
): number {
  const [command, ...rest] = argv;
  if (command !== 'report') {
    err(`${USAGE}\n`);
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  let dir = 'cdk.out';
  let markdown: string | undefined;
  let json: string | undefined;
  let checkMode = false;
  let maxAdmins = 3;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--markdown') {markdown = value();} else if (arg === '--json') {json = value();} else if (arg === '--check') {checkMode = true;} else if (arg === '--max-admins') {maxAdmins = Number(value());} else if (arg.startsWith('-')) {
      err(`unknown option ${arg}\n${USAGE}\n`);
      return 2;
    } else {dir = arg;}
  }
  if (!Number.isInteger(maxAdmins) || maxAdmins < 0) {
    err('--max-admins takes a whole number\n');
    return 2;
  }
  let report: AccessReport;
  try {
    report = AccessReport.fromAssemblyDirectory(dir);
  } catch (e) {
    err(`${(e as Error).message}\n`);
    return 2;
  }
  if (report.clusters.length === 0) out(`No EKS clusters in ${dir}.\n`);
  else out(report.toText());
  if (markdown) fs.writeFileSync(markdown, report.toMarkdown());
  if (json) fs.writeFileSync(json, report.toJson());
  const findings = report.findings({ maxClusterAdmins: maxAdmins });
  if (findings.length > 0) {
    out(`\nFindings (${findings.length}):\n`);
    for (const f of findings) out(`  [${f.kind}] ${f.cluster}: ${f.message}\n`);
  } else {
    out('\nFindings: none\n');
  }
  return checkMode && findings.length > 0 ? 1 : 0;
}
