import * as fs from 'fs';
import { Command, EXIT_GATE, EXIT_OK, EXIT_USAGE } from './command';
import { AccessReport } from '../access-report';

/** `cdk-eks-access report`: who can do what in every EKS cluster of a synthesized app. */
export const reportCommand: Command = {
  name: 'report',
  summary: 'Prints who can do what in every EKS cluster of a synthesized app (default directory: cdk.out).',
  synopsis: '[cdk.out] [--markdown FILE] [--json FILE] [--check] [--max-admins N]',
  options: {
    'markdown': { type: 'string', value: 'FILE', help: 'also write Markdown with a Mermaid diagram (principal -> group -> role -> namespace)' },
    'json': { type: 'string', value: 'FILE', help: 'also write the model as JSON' },
    'check': { type: 'boolean', help: 'exit 1 when there are findings' },
    'max-admins': { type: 'string', value: 'N', help: 'the cluster-admin limit for --check (default 3)' },
  },
  minPositionals: 0,
  maxPositionals: 1,
  description: `
Findings (printed always; with --check they make the exit code 1): pathed role ARNs in
aws-auth, duplicate ARNs, groups mapped but never bound in the app (fine when bound outside
it, e.g. AccessLevel.existingGroups()), bindings to unmapped groups, more cluster admins than
--max-admins, reserved prefixes.

Exit codes: 0 done (findings without --check too), 1 findings with --check, 2 bad arguments
or an unreadable cloud assembly.`,
  run(values, positionals, io) {
    const dir = positionals[0] ?? 'cdk.out';
    const maxAdmins = values['max-admins'] === undefined ? 3 : Number(values['max-admins']);
    if (!Number.isInteger(maxAdmins) || maxAdmins < 0) {
      io.err(`cdk-eks-access report: --max-admins takes a whole number, got ${JSON.stringify(values['max-admins'])}\n`);
      return EXIT_USAGE;
    }
    let report: AccessReport;
    try {
      report = AccessReport.fromAssemblyDirectory(dir);
    } catch (e) {
      io.err(`${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    if (report.clusters.length === 0) io.out(`No EKS clusters in ${dir}.\n`);
    else io.out(report.toText());
    if (typeof values.markdown === 'string') fs.writeFileSync(values.markdown, report.toMarkdown());
    if (typeof values.json === 'string') fs.writeFileSync(values.json, report.toJson());
    const findings = report.findings({ maxClusterAdmins: maxAdmins });
    if (findings.length > 0) {
      io.out(`\nFindings (${findings.length}):\n`);
      for (const f of findings) io.out(`  [${f.kind}] ${f.cluster}: ${f.message}\n`);
    } else {
      io.out('\nFindings: none\n');
    }
    return values.check && findings.length > 0 ? EXIT_GATE : EXIT_OK;
  },
};
