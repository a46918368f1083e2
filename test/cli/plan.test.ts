import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as YAML from 'yaml';
import { run } from './run';
import { AccessLevel, AccessPrincipal, ClusterAccess } from '../../src';
import { awsAuthResources } from '../../src/cli/plan-assembly';
import { ConfigMap, planAwsAuth } from '../../src/handlers/access-reconciler/aws-auth';
import { TEST_APP_PROPS } from '../util';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
const STACK_ID = 'arn:aws:cloudformation:us-east-1:111122223333:stack/Adopt/6f1c2b30-0000-11ef-9a1b-0a1b2c3d4e5f';

/** A synthesized app with one imported cluster and the given grants. */
function assembly(grant: (access: ClusterAccess, stack: Stack) => void, stacks = ['Adopt']): string {
  const outdir = tmp();
  const app = new App({ ...TEST_APP_PROPS, outdir });
  for (const id of stacks) {
    const stack = new Stack(app, id);
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Prod', { clusterName: 'prod', kubectlRoleArn: 'arn:aws:iam::111122223333:role/prod-kubectl' });
    grant(ClusterAccess.of(cluster), stack);
  }
  app.synth();
  return outdir;
}

function configMap(mapRoles: object[], mapUsers: object[] = [], annotations: Record<string, string> = {}): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', annotations },
    data: { mapRoles: YAML.stringify(mapRoles), mapUsers: YAML.stringify(mapUsers) },
  };
}

function write(cm: ConfigMap | string): string {
  const f = path.join(tmp(), 'aws-auth.yaml');
  fs.writeFileSync(f, typeof cm === 'string' ? cm : YAML.stringify(cm));
  return f;
}

const NODE = { rolearn: 'arn:aws:iam::111122223333:role/node', username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:bootstrappers', 'system:nodes'] };
const OPS = { rolearn: 'arn:aws:iam::111122223333:role/Ops', username: 'ops', groups: ['system:masters'] };
const grantOps = (access: ClusterAccess) => access.grant(AccessPrincipal.fromRoleArn(OPS.rolearn), AccessLevel.clusterAdmin(), { username: 'ops' });

/** What the reconciler writes on a deploy of `dir`'s aws-auth resource by stack STACK_ID (instance `id`). */
function deploy(existing: ConfigMap | undefined, dir: string, id = 'instance-1', requestType: 'Create' | 'Update' = 'Create'): ConfigMap {
  const [resource] = awsAuthResources(dir, { partition: 'aws' });
  const owner = { id, stack: STACK_ID, logicalId: resource.logicalId };
  return planAwsAuth(existing, { requestType, owner, desired: resource.desired }) ?? existing!;
}

describe('cdk-eks-access plan', () => {
  test('first deploy: an identical entry is adopted, a new one added, others left alone; exit 0', () => {
    const dir = assembly(access => {
      grantOps(access);
      access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Auditor'), AccessLevel.clusterView());
    });
    const result = run('plan', '--aws-auth', write(configMap([NODE, OPS])), dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/The deploy is a Create: no record of stack Adopt on aws-auth/);
    expect(result.stdout).toMatch(/^= adopt {3}mapRoles arn:aws:iam::111122223333:role\/Ops: username "ops", groups \["system:masters"\]/m);
    expect(result.stdout).toMatch(/^\+ add {5}mapRoles arn:aws:iam::111122223333:role\/Auditor: username "role:Auditor:\{\{SessionName\}\}", groups \["cdk-eks-access:cluster-view"\]/m);
    expect(result.stdout).toMatch(/^ {2}leave {3}mapRoles arn:aws:iam::111122223333:role\/node:/m);
    expect(result.stdout).toMatch(/1 to add, 0 to change, 0 to remove, 1 to adopt, 0 of this stack's unchanged, 1 left alone; the deploy writes aws-auth/);
  });

  test('after that deploy: the stack\'s record (found by stack name and logical id) makes it an Update; nothing to write', () => {
    const dir = assembly(access => {
      grantOps(access);
      access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Auditor'), AccessLevel.clusterView());
    });
    const deployed = deploy(configMap([NODE, OPS]), dir);
    const result = run('plan', '--aws-auth', write(deployed), dir);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`an Update of the instance that wrote last \\(its record names stack ${STACK_ID.replace(/[/.]/g, '\\$&')} and logical id`));
    expect(result.stdout).toMatch(/^= keep {4}mapRoles arn:aws:iam::111122223333:role\/Auditor: .*\(this stack's, unchanged\)/m);
    expect(result.stdout).toMatch(/the deploy does not write aws-auth/);

    // a grant revoked: the entry the stack created goes; the adopted one stays as it was found
    const fewer = assembly(access => grantOps(access));
    const next = run('plan', '--aws-auth', write(deployed), fewer);
    expect(next.stdout).toMatch(/^- remove {2}mapRoles arn:aws:iam::111122223333:role\/Auditor: .*\(created by this stack, no longer granted\)/m);
    expect(next.stdout).toMatch(/^= keep {4}mapRoles arn:aws:iam::111122223333:role\/Ops/m);
  });

  test('a changed grant of an entry the stack wrote: change', () => {
    const dir = assembly(access => access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceView('a')));
    const deployed = deploy(configMap([]), dir);
    const changed = assembly(access => access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceEdit('a')));
    const result = run('plan', '--aws-auth', write(deployed), changed);
    expect(result.stdout).toMatch(/^~ change {2}mapRoles arn:aws:iam::111122223333:role\/Dev: .*groups \["cdk-eks-access:a:view"\] -> .*groups \["cdk-eks-access:a:edit"\]/m);
  });

  test.each([
    ['an entry for the ARN that nobody owns with other values', [{ ...OPS, username: 'someone-else' }], /aws-auth already maps arn:aws:iam::111122223333:role\/Ops .* this stack did not write that entry/],
    ['two entries that match the ARN', [OPS, { ...OPS, groups: ['other'] }], /more than one entry that matches arn:aws:iam::111122223333:role\/Ops/],
    ['another stack\'s claim', [OPS], /already granted in aws-auth by .* of stack arn:aws:cloudformation:us-east-1:111122223333:stack\/Other\//],
  ])('refused (%s): exit 1 with the reconciler\'s reason', (name, roles, reason) => {
    const dir = assembly(access => grantOps(access));
    let cm = configMap(roles);
    if (name.startsWith('another stack')) {
      // the other stack's record, as the reconciler writes it
      const [resource] = awsAuthResources(dir, { partition: 'aws' });
      cm = planAwsAuth(configMap([]), {
        requestType: 'Create', owner: { id: 'x', stack: 'arn:aws:cloudformation:us-east-1:111122223333:stack/Other/1', logicalId: 'L' }, desired: resource.desired,
      })!;
    }
    const result = run('plan', '--aws-auth', write(cm), dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^REFUSED: the reconciler would fail the deploy and write nothing:/m);
    expect(result.stdout).toMatch(reason);
  });

  test('ARNs known at deploy time: a role created in the app by its construct path, the account from --account', () => {
    const dir = assembly((access, stack) => {
      access.grantRole(new iam.Role(stack, 'Deployer', { assumedBy: new iam.AccountRootPrincipal() }), AccessLevel.namespaceEdit('apps'));
      access.grantRole(new iam.Role(stack, 'Named', { roleName: 'ci-named', assumedBy: new iam.AccountRootPrincipal() }), AccessLevel.namespaceView('apps'));
      access.grant(AccessPrincipal.fromSsoPermissionSetName('Readers'), AccessLevel.clusterView());
    });
    const result = run('plan', '--aws-auth', write(configMap([])), dir, '--account', '111122223333');
    expect(result.status).toBe(0);
    // in-process synth has no aws:cdk:path metadata: the logical id stands in
    expect(result.stdout).toMatch(/^\+ add {5}mapRoles arn:aws:iam::111122223333:role\/<Deployer[0-9A-F]{8}>: username "role:<Deployer[0-9A-F]{8}>:\{\{SessionName\}\}".*\(ARN known at deploy time\)/m);
    expect(result.stdout).toMatch(/^\+ add {5}mapRoles arn:aws:iam::111122223333:role\/ci-named: /m);
    expect(result.stdout).toMatch(/^\+ add {5}mapRoles <role of permission set Readers>: .*\(ARN known at deploy time\)/m);
    expect(result.stdout).not.toMatch(/\$\{/);
  });

  test('the construct path from aws:cdk:path metadata, as cdk synth writes it', () => {
    const dir = assembly((access, stack) => access.grantRole(new iam.Role(stack, 'Deployer', { assumedBy: new iam.AccountRootPrincipal() }), AccessLevel.namespaceEdit('apps')));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const templateFile = path.join(dir, manifest.artifacts.Adopt.properties.templateFile);
    const template = JSON.parse(fs.readFileSync(templateFile, 'utf8'));
    for (const [id, res] of Object.entries<any>(template.Resources)) if (id.startsWith('Deployer')) res.Metadata = { 'aws:cdk:path': 'Adopt/Deployer/Resource' };
    fs.writeFileSync(templateFile, JSON.stringify(template));
    const result = run('plan', '--aws-auth', write(configMap([])), dir);
    expect(result.stdout).toContain('+ add     mapRoles arn:aws:iam::<account>:role/<Adopt/Deployer>: username "role:<Adopt/Deployer>:{{SessionName}}"');
  });

  test('no aws-auth yet (an empty file): the deploy creates it', () => {
    const dir = assembly(access => grantOps(access));
    const result = run('plan', '--aws-auth', write(''), dir);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/aws-auth does not exist yet: the deploy creates it/);
    expect(result.stdout).toMatch(/^\+ add {5}mapRoles arn:aws:iam::111122223333:role\/Ops/m);
  });

  test.each([
    ['no --aws-auth', (dir: string) => ['plan', dir], /--aws-auth FILE is required/],
    ['eksctl\'s list in place of the ConfigMap', (dir: string) => ['plan', '--aws-auth', write(JSON.stringify([OPS])), dir], /plan needs the ConfigMap with its annotations/],
    ['no cloud assembly', () => ['plan', '--aws-auth', write(configMap([])), '/nonexistent'], /no manifest.json there/],
    ['an unknown option', (dir: string) => ['plan', '--aws-auth', write(configMap([])), dir, '--bogus'], /Unknown option '--bogus'/],
    ['a bad --account', (dir: string) => ['plan', '--aws-auth', write(configMap([])), dir, '--account', '12'], /--account takes a 12-digit account id, got "12"/],
  ])('%s: exit 2', (_, args, message) => {
    const dir = assembly(access => grantOps(access));
    const result = run(...args(dir));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  test('several aws-auth resources: --stack chooses one', () => {
    const dir = assembly(access => grantOps(access), ['One', 'Two']);
    const both = run('plan', '--aws-auth', write(configMap([OPS])), dir);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/2 aws-auth resources .*choose one with --stack NAME/);
    const one = run('plan', '--aws-auth', write(configMap([OPS])), dir, '--stack', 'Two');
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/of stack Two/);
  });
});
