import * as fs from 'fs';
import { Command, EXIT_OK, UsageError } from './command';
import { importAwsAuth } from './import-emit';
import { readRbac } from './import-rbac';
import { readAwsAuthInput } from './import-read';

function readText(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** `cdk-eks-access import FILE`: aws-auth's entries as grant statements to paste into an app. */
export const importCommand: Command = {
  name: 'import',
  summary: 'Prints an existing aws-auth as grant statements (TypeScript) to paste into an app.',
  synopsis: 'FILE [--var NAME] [--rbac FILE]',
  options: {
    var: { type: 'string', value: 'NAME', help: 'the EksCluster variable in the printed code (default cluster)' },
    rbac: { type: 'string', value: 'FILE', help: 'the cluster\'s RBAC objects: groups bound to built-in roles become levels' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  description: `
FILE (- for stdin) is aws-auth as one of these prints it:
  kubectl get configmap aws-auth -n kube-system -o yaml   (or -o json)
  eksctl get iamidentitymapping --cluster NAME -o json     (also older eksctl's second list of accounts)
It is read as aws-iam-authenticator reads it (the reconciler's own reader). The statements
go to stdout and compile inside a function body where NAME is an EksCluster, with
  import { AccessLevel, AccessPrincipal } from 'cdk-eks-access';
Each grant reproduces its entry (same username, same groups), so the first deploy adopts
the entries as they are: system:masters becomes AccessLevel.clusterAdmin(), other groups
AccessLevel.existingGroups([...]) (bound outside the app; no RBAC is generated). Node and
Fargate entries, ARNs with "*" (which match nobody) and mapAccounts become comments; they stay in aws-auth.

--rbac FILE (kubectl get roles,rolebindings,clusterroles,clusterrolebindings -A -o yaml):
a group bound by a RoleBinding to the built-in view, edit or admin ClusterRole becomes
namespaceView/Edit/Admin of that namespace, by a ClusterRoleBinding to view clusterView(),
to cluster-admin clusterAdmin(); a group with any other binding stays as it is. Such an
entry's groups change, and the reconciler does not change entries it did not write: remove
those entries before the deploy (plan names them).

Problems (pathed role ARNs, duplicate ARNs, reserved names, entries aws-iam-authenticator
ignores, usernames the library refuses) go to stderr and as comments into the code.

Exit codes: 0 done, also with warnings; 2 bad arguments or a FILE that cannot be read.`,
  run(values, positionals, io) {
    const varName = typeof values.var === 'string' ? values.var : 'cluster';
    if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(varName)) {
      throw new UsageError(`--var takes a TypeScript name such as cluster or this.cluster, got ${JSON.stringify(varName)}`);
    }
    const file = positionals[0];
    const input = readAwsAuthInput(readText(file), file);
    const rbac = typeof values.rbac === 'string' ? readRbac(readText(values.rbac), values.rbac) : undefined;
    const result = importAwsAuth(input, { varName, source: file === '-' ? 'stdin' : file, rbac });
    io.out(result.code);
    for (const w of result.warnings) io.err(`warning: ${w.replace(/\n/g, ' ')}\n`);
    io.err(`import: ${result.grants} grant statement${result.grants === 1 ? '' : 's'}, ${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'}\n`);
    return EXIT_OK;
  },
};
