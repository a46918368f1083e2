import * as fs from 'fs';
import * as YAML from 'yaml';
import { Command, EXIT_GATE, EXIT_OK, UsageError } from './command';
import { awsAuthResources } from './plan-assembly';
import { PlanLine, planDeploy } from './plan-compute';
import { ConfigMap } from '../handlers/access-reconciler/aws-auth';

const SIGNS: Record<PlanLine['action'], string> = {
  add: '+ add', change: '~ change', adopt: '= adopt', keep: '= keep', remove: '- remove', restore: '~ restore', release: '= release', leave: '  leave',
};

/** Reads the ConfigMap as `kubectl get configmap aws-auth -n kube-system -o yaml` (or -o json) prints it. */
function readConfigMap(file: string): ConfigMap | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --aws-auth ${file}: ${(e as Error).message}`);
  }
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) throw new UsageError(`--aws-auth ${file}: not YAML or JSON (${doc.errors[0].message.split('\n')[0]})`);
  let value: any = doc.toJS();
  if (value?.kind === 'List') value = (value.items ?? []).find((i: any) => i?.kind === 'ConfigMap' && i.metadata?.name === 'aws-auth');
  if (Array.isArray(value)) {
    throw new UsageError(`--aws-auth ${file}: a list, as eksctl prints identity mappings; plan needs the ConfigMap with its annotations (who wrote what): kubectl get configmap aws-auth -n kube-system -o yaml`);
  }
  if (value?.kind !== 'ConfigMap' || typeof value.metadata !== 'object' || value.metadata === null) {
    throw new UsageError(`--aws-auth ${file}: not a ConfigMap; give the output of kubectl get configmap aws-auth -n kube-system -o yaml (or an empty file when the cluster has none)`);
  }
  for (const [k, v] of Object.entries(value.data ?? {})) {
    if (typeof v !== 'string') throw new UsageError(`--aws-auth ${file}: data.${k} is not a string (kubectl prints each section as one string)`);
  }
  return value as ConfigMap;
}

/** `cdk-eks-access plan --aws-auth FILE [cdk.out]`: what the next deploy does to aws-auth. */
export const planCommand: Command = {
  name: 'plan',
  summary: 'Shows what the next deploy of a synthesized app would do to a cluster\'s aws-auth, computed by the reconciler\'s own planning code.',
  synopsis: '--aws-auth FILE [cdk.out] [--stack NAME] [--account ID] [--region REGION] [--partition P]',
  options: {
    'aws-auth': { type: 'string', value: 'FILE', help: 'aws-auth as kubectl get configmap aws-auth -n kube-system -o yaml (or -o json) prints it; an empty file: none yet' },
    'stack': { type: 'string', value: 'NAME', help: 'the stack whose aws-auth resource to plan (when the app has several)' },
    'account': { type: 'string', value: 'ID', help: 'the account of an environment-agnostic stack (for ARNs built from AWS::AccountId)' },
    'region': { type: 'string', value: 'REGION', help: 'the region of an environment-agnostic stack' },
    'partition': { type: 'string', value: 'P', help: 'the partition (default aws)' },
  },
  minPositionals: 0,
  maxPositionals: 1,
  description: `
Each entry of the stack's Custom::CdkEksAccessAwsAuth resource (cdk synth first) is one line:
  + add      aws-auth has no entry for the ARN: the deploy appends one
  ~ change   an entry this stack wrote (or adopted) gets other values
  = adopt    an identical entry is already there (written by hand, eksctl or EKS): it becomes
             the stack's without a change, and stays when the stack lets go of it
  = keep     this stack's entry, unchanged
  - remove   this stack wrote it and no longer grants it
  ~ restore  this stack changed an adopted entry and no longer grants it: put back as found
  = release  an adopted entry no longer granted: left as it was found
    leave    everything else, untouched byte for byte
or the refusal (the deploy would fail and write nothing), with its reason and fix.

This stack's earlier entries are found offline by its record on aws-auth: an annotation
owner.cdk-eks-access.io/<hash of the stack id> whose JSON names the stack id and the logical
id of the instance that wrote last. The stack id (…:stack/<name>/<uuid>) is unknown to a
synthesized app, so the record is matched by stack name (and account and region when the
stack pins them, or --account/--region give them); a matching logical id makes the deploy an
Update, another one a replacement, none a Create (records of an earlier stack of the same
name are taken over then, as the reconciler does).

ARNs only known at deploy time are shown readably: AWS::Partition, AWS::AccountId and
AWS::Region from the stack's environment (or --partition/--account/--region), otherwise
<account>/<region>; a role or user created in the app by its literal name, or when
CloudFormation names it, by its construct path in angle brackets, e.g.
arn:aws:iam::<account>:role/<MyStack/Deployer>; a permission set looked up by name as
<role of permission set NAME>. Such an entry shows as added: whether aws-auth already maps
that principal can only be known at deploy time.

Exit codes: 0 the deploy would succeed, 1 the reconciler would refuse it (a pipeline can gate
on this), 2 bad arguments or unreadable inputs.`,
  run(values, positionals, io) {
    const file = values['aws-auth'];
    if (typeof file !== 'string') throw new UsageError('--aws-auth FILE is required (kubectl get configmap aws-auth -n kube-system -o yaml > aws-auth.yaml)');
    const isEmpty = file !== '-' && fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() === '';
    const existing = isEmpty ? undefined : readConfigMap(file);
    const dir = positionals[0] ?? 'cdk.out';
    const partition = typeof values.partition === 'string' ? values.partition : 'aws';
    const account = typeof values.account === 'string' ? values.account : undefined;
    if (account !== undefined && !/^\d{12}$/.test(account)) throw new UsageError(`--account takes a 12-digit account id, got ${JSON.stringify(account)}`);
    let resources;
    try {
      resources = awsAuthResources(dir, { partition, account, region: typeof values.region === 'string' ? values.region : undefined });
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`cannot read the cloud assembly ${dir}: ${(e as Error).message}`);
    }
    const stack = typeof values.stack === 'string' ? values.stack : undefined;
    const chosen = resources.filter(r => stack === undefined || r.stackName === stack);
    if (chosen.length !== 1) {
      const all = resources.map(r => `${r.stackName} (${r.path})`).join(', ') || 'none';
      throw new UsageError(chosen.length === 0
        ? `no Custom::CdkEksAccessAwsAuth resource${stack ? ` in stack ${stack}` : ''} in ${dir} (found: ${all}); the app writes no aws-auth entries, or cdk synth has not run`
        : `${chosen.length} aws-auth resources in ${dir} (${all}); each is one cluster: choose one with --stack NAME`);
    }
    const resource = chosen[0];
    const outcome = planDeploy(existing, resource, partition);
    io.out(`aws-auth resource ${resource.path} (logical id ${resource.logicalId}) of stack ${resource.stackName}\n`);
    io.out(`The deploy is ${outcome.request}.\n`);
    if (!existing) io.out('aws-auth does not exist yet: the deploy creates it.\n');
    if (outcome.refusal) {
      io.out(`\nREFUSED: the reconciler would fail the deploy and write nothing:\n  ${outcome.refusal}\n`);
      return EXIT_GATE;
    }
    io.out('\n');
    for (const l of outcome.lines) io.out(`${SIGNS[l.action].padEnd(9)} ${l.section} ${l.arn}: ${l.text}\n`);
    const count = (a: PlanLine['action']) => outcome.lines.filter(l => l.action === a).length;
    io.out(`\n${count('add')} to add, ${count('change') + count('restore')} to change, ${count('remove')} to remove, ${count('adopt')} to adopt, `
      + `${count('keep') + count('release')} of this stack's unchanged, ${count('leave')} left alone; `
      + `${outcome.writes ? 'the deploy writes aws-auth' : 'the deploy does not write aws-auth'}.\n`);
    return EXIT_OK;
  },
};
