import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildExampleStack } from '../examples/app';
import { AccessLevel, AccessPrincipal, AccessReport, CanIRequest } from '../src';
import { TEST_APP_PROPS, testCluster, testStack } from './util';

const SSO = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01';
const SSO_SESSION = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01/alice@example.com';

function reportOf(mode: eks.AuthenticationMode = eks.AuthenticationMode.CONFIG_MAP): AccessReport {
  const stack = testStack();
  const cluster = testCluster(stack, { authenticationMode: mode });
  cluster.grantRole(iam.Role.fromRoleArn(stack, 'Ops2', 'arn:aws:iam::111122223333:role/ops/SecondOps'), AccessLevel.clusterAdmin()); // (a)
  cluster.grantUser(iam.User.fromUserArn(stack, 'Alice', 'arn:aws:iam::111122223333:user/admins/alice'), AccessLevel.clusterAdmin()); // (a)
  cluster.grantSsoPermissionSet(SSO, AccessLevel.namespaceView('team-a')); // (c)
  cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Editor'), AccessLevel.namespaceEdit('apps'));
  cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/teams/NsAdmin'), AccessLevel.namespaceAdmin('apps'));
  cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Viewer'), AccessLevel.clusterView());
  cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/ci'), AccessLevel.custom({
    namespaceName: 'apps',
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }, { apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'], verbs: ['update'] }],
  }));
  cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Scraper'), AccessLevel.custom({ rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] }));
  cluster.grant(AccessPrincipal.fromSsoPermissionSetName('PlatformReadOnly'), AccessLevel.namespaceView('team-b'));
  return AccessReport.fromStack(stack);
}

function ask(principalArn: string, verb: string, resource: string, more: Partial<CanIRequest> = {}): CanIRequest {
  return { principalArn, verb, resource, ...more };
}

describe('AccessReport.canI', () => {
  const report = reportOf();

  test.each([
    // (a) another role and a user as system:masters
    [ask('arn:aws:iam::111122223333:role/ops/SecondOps', 'delete', 'secrets', { namespaceName: 'kube-system' }), true, /cluster admin \(aws-auth entry in system:masters\)/],
    [ask('arn:aws:sts::111122223333:assumed-role/SecondOps/bob', 'create', 'clusterrolebindings', { apiGroup: 'rbac.authorization.k8s.io' }), true, /cluster admin/],
    [ask('arn:aws:iam::111122223333:user/admins/alice', 'get', 'nodes'), true, /cluster admin/],
    [ask('arn:aws:iam::111122223333:user/alice', 'get', 'nodes'), false, /has no aws-auth entry or access entry/], // user paths matter
    // (c) the SSO role reads team-a, never Secrets, nowhere else
    [ask(SSO_SESSION, 'get', 'pods', { namespaceName: 'team-a' }), true, /group cdk-eks-access:team-a:view, bound by RoleBinding team-a\/cdk-eks-access:view to ClusterRole view \(built-in\)/],
    [ask(SSO_SESSION, 'list', 'deployments', { apiGroup: 'apps', namespaceName: 'team-a' }), true, /view/],
    [ask(SSO_SESSION, 'get', 'secrets', { namespaceName: 'team-a' }), false, /no binding .* allows get secrets in namespace team-a/],
    [ask(SSO_SESSION, 'get', 'pods', { namespaceName: 'team-b' }), false, /in namespace team-b/],
    [ask(SSO, 'create', 'pods', { namespaceName: 'team-a' }), false, /no binding/],
    // edit: Secrets yes, RBAC no; admin: RBAC yes
    [ask('arn:aws:iam::111122223333:role/Editor', 'create', 'secrets', { namespaceName: 'apps' }), true, /ClusterRole edit/],
    [ask('arn:aws:iam::111122223333:role/Editor', 'create', 'rolebindings', { apiGroup: 'rbac.authorization.k8s.io', namespaceName: 'apps' }), false, /no binding/],
    [ask('arn:aws:iam::111122223333:role/NsAdmin', 'create', 'rolebindings', { apiGroup: 'rbac.authorization.k8s.io', namespaceName: 'apps' }), true, /ClusterRole admin/],
    [ask('arn:aws:iam::111122223333:role/NsAdmin', 'delete', 'namespaces'), false, /cluster-wide/],
    // cluster view: every namespace, no Secrets, no nodes
    [ask('arn:aws:iam::111122223333:role/Viewer', 'list', 'pods', { namespaceName: 'anything' }), true, /ClusterRoleBinding cdk-eks-access:cluster-view/],
    [ask('arn:aws:iam::111122223333:role/Viewer', 'get', 'secrets', { namespaceName: 'anything' }), false, /no binding/],
    [ask('arn:aws:iam::111122223333:role/Viewer', 'get', 'nodes'), false, /no binding/],
    // custom rules: exactly what was given
    [ask('arn:aws:iam::111122223333:role/ci', 'patch', 'deployments', { apiGroup: 'apps', namespaceName: 'apps' }), true, /Role cdk-eks-access:custom-/],
    [ask('arn:aws:iam::111122223333:role/ci', 'delete', 'deployments', { apiGroup: 'apps', namespaceName: 'apps' }), false, /no binding/],
    [ask('arn:aws:iam::111122223333:role/ci', 'update', 'configmaps', { namespaceName: 'apps', name: 'app-config' }), true, /resourceNames/],
    [ask('arn:aws:iam::111122223333:role/ci', 'update', 'configmaps', { namespaceName: 'apps', name: 'other' }), false, /no binding/],
    [ask('arn:aws:iam::111122223333:role/Scraper', 'get', '/metrics'), true, /nonResourceURLs/],
    [ask('arn:aws:iam::111122223333:role/Scraper', 'get', '/healthz'), false, /no binding/],
    // a permission set looked up by name, asked with a session ARN of its role
    [ask('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PlatformReadOnly_0123456789abcdef/bob', 'get', 'pods', { namespaceName: 'team-b' }), true, /sso:PlatformReadOnly/],
  ])('%j -> %s', (request, allowed, reason) => {
    const answer = report.canI(request);
    expect(answer.reason).toMatch(reason);
    expect(answer.allowed).toBe(allowed);
  });

  test('answers carry the username (templates filled from the session ARN as aws-iam-authenticator does) and groups', () => {
    expect(report.canI(ask(SSO_SESSION, 'get', 'pods', { namespaceName: 'team-a' }))).toMatchObject({ username: 'sso:ViewOnlyAccess:alice-example.com', groups: ['cdk-eks-access:team-a:view'] });
    expect(report.canI(ask(SSO, 'get', 'pods', { namespaceName: 'team-a' })).username).toBe('sso:ViewOnlyAccess:{{SessionName}}'); // no session: left as is
  });

  test.each([
    ['ops:{{SessionNameRaw}}', 'ops:alice@example.com'],
    ['ops:{{SessionName}}', 'ops:alice-example.com'],
    ['ci:{{AccountID}}:{{SessionName}}', 'ci:111122223333:alice-example.com'],
    ['k:{{AccessKeyID}}', 'k:{{AccessKeyID}}'],
  ])('username template %j -> %j', (template, expected) => {
    const stack = testStack();
    testCluster(stack).grantSsoPermissionSet(SSO, AccessLevel.clusterView(), { username: template });
    expect(AccessReport.fromStack(stack).canI(ask(SSO_SESSION, 'list', 'pods', { namespaceName: 'x' })).username).toBe(expected);
  });

  test('API mode: the same answers, admin through AmazonEKSClusterAdminPolicy', () => {
    const api = reportOf(eks.AuthenticationMode.API);
    expect(api.canI(ask('arn:aws:iam::111122223333:role/ops/SecondOps', 'delete', 'secrets', { namespaceName: 'x' })).reason).toMatch(/access entry with AmazonEKSClusterAdminPolicy/);
    expect(api.canI(ask(SSO_SESSION, 'get', 'secrets', { namespaceName: 'team-a' })).allowed).toBe(false);
    expect(api.canI(ask(SSO_SESSION, 'get', 'pods', { namespaceName: 'team-a' })).allowed).toBe(true);
  });
});

/** A synthesized cloud assembly in a temporary directory. */
function assemblyOf(build: (app: App) => void): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-'));
  const app = new App({ ...TEST_APP_PROPS, outdir });
  build(app);
  app.synth();
  return outdir;
}

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', "process.exitCode = require('./src/cli').main(process.argv.slice(1))", ...args],
    { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: 'test/tsconfig.json' } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('cdk-eks-access report (command line)', () => {
  test('on the synthesized example: table, Markdown with Mermaid, JSON, no findings', () => {
    const dir = assemblyOf(app => buildExampleStack(app));
    const md = path.join(dir, 'report.md');
    const json = path.join(dir, 'report.json');
    const run = cli('report', dir, '--markdown', md, '--json', json, '--check');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Cluster EksAccessExample\/Cluster\w+ \(CONFIG_MAP\)/);
    expect(run.stdout).toMatch(/principal\s+username\s+groups\s+via\s+access/);
    expect(run.stdout).toMatch(/arn:aws:iam::111122223333:role\/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01\s+sso:ViewOnlyAccess:\{\{SessionName\}\}\s+cdk-eks-access:team-a:view\s+aws-auth\s+ns team-a: view \(built-in\)/);
    expect(run.stdout).toMatch(/sso:PlatformReadOnly .* all namespaces: view \(built-in\)/);
    expect(run.stdout).toContain('Findings: none');
    const markdown = fs.readFileSync(md, 'utf8');
    expect(markdown).toContain('```mermaid\nflowchart LR');
    expect(markdown).toMatch(/--> g_cdk_eks_access_team_a_view\{\{"cdk-eks-access:team-a:view"\}\}/);
    expect(markdown).toMatch(/--> admin\(\(cluster-admin\)\)/);
    const data = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(data[0].principals.find((p: any) => p.principal === 'sso:PlatformReadOnly')).toMatchObject({ groups: ['cdk-eks-access:cluster-view'], clusterAdmin: false });
  });

  test('usage errors exit 2', () => {
    expect(cli('report', '/nonexistent').status).toBe(2);
    expect(cli('bogus').status).toBe(2);
  });
});

// Deliberately written templates (what aws-eks or a hand-written app may synthesize)
const rawCluster = (mode = 'CONFIG_MAP') => ({ Type: 'Custom::AWSCDK-EKS-Cluster', Properties: { Config: { accessConfig: { authenticationMode: mode } } } });
const manifest = (objects: any[]) => ({ Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { ClusterName: { Ref: 'C' }, Manifest: JSON.stringify(objects) } });
const awsAuth = (mapRoles: any[]) => manifest([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: JSON.stringify(mapRoles), mapUsers: '[]' } }]);
const binding = (group: string) => manifest([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `b-${group}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }] }]);
const role = (arn: string, groups: string[], username = 'u:{{SessionName}}') => ({ rolearn: arn, username, groups });

function assemblyWith(resources: Record<string, any>, mode = 'CONFIG_MAP'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-'));
  fs.writeFileSync(path.join(dir, 'Bad.template.json'), JSON.stringify({ Resources: { C: rawCluster(mode), ...resources } }));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '36.0.0', artifacts: { Bad: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Bad.template.json' } } } }));
  return dir;
}

describe('canI answers as aws-iam-authenticator and EKS decide', () => {
  const SESSION = 'arn:aws:sts::111122223333:assumed-role/Dev/alice';
  test('an aws-auth entry written with the role\'s IAM path maps no session of the role (v0.7.18 compares rolearn literally)', () => {
    const report = AccessReport.fromAssemblyDirectory(assemblyWith({ A: awsAuth([role('arn:aws:iam::111122223333:role/team/Dev', ['system:masters'])]) }));
    const answer = report.canI(ask(SESSION, 'delete', 'nodes'));
    expect(answer.allowed).toBe(false);
    expect(answer.reason).toMatch(/has no aws-auth entry or access entry/);
    expect(report.findings().map(f => f.kind)).toContain('pathed-role-arn');
  });

  test('in API_AND_CONFIG_MAP a principal\'s access entry wins over its aws-auth system:masters (EKS User Guide)', () => {
    const entry = { Type: 'AWS::EKS::AccessEntry', Properties: { ClusterName: { Ref: 'C' }, PrincipalArn: 'arn:aws:iam::111122223333:role/Dev', KubernetesGroups: ['viewers'] } };
    const report = AccessReport.fromAssemblyDirectory(assemblyWith({ A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['system:masters'])]), E: entry, B: binding('viewers') }, 'API_AND_CONFIG_MAP'));
    const admin = report.canI(ask(SESSION, 'delete', 'nodes'));
    expect(admin.allowed).toBe(false);
    expect(admin.groups).toEqual(['viewers']);
    expect(report.canI(ask(SESSION, 'get', 'pods', { namespaceName: 'a' })).allowed).toBe(true);
  });

  test('a question with the old field name "namespace" throws instead of becoming a cluster-wide question', () => {
    // a spread of an object with `namespace` passes TypeScript's checks and reached canI unread
    const report = AccessReport.fromAssemblyDirectory(assemblyWith({ A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['system:masters'])]) }));
    const where = { namespace: 'team-a' };
    expect(() => report.canI({ ...ask(SESSION, 'get', 'pods'), ...where })).toThrow(/the request has "namespace".*the field is "namespaceName"/);
  });

  test.each([
    [{ namespaceName: 'Team_A' }, /the namespace "Team_A" is not a valid Kubernetes namespace name/],
    [{ namespaceName: 'a'.repeat(64) }, /is not a valid Kubernetes namespace name|has 64 characters/],
    [{ principalArn: 'Dev' }, /the principal "Dev" is not an IAM principal ARN/],
    [{ principalArn: 'arn:aws:s3:::bucket' }, /the principal "arn:aws:s3:::bucket" is not an IAM principal ARN/],
    [{ principalArn: 'arn:aws:iam::1111:role/Dev' }, /is not an IAM principal ARN/],
    [{ resource: 'Pod' }, /Kubernetes names that resource "pods" \(apiGroup ""/],
    [{ resource: 'deployments', apiGroup: '' }, /the API group "" has no resource "deployments" .*It is in apiGroup "apps"/],
    [{ resource: 'deployment', apiGroup: 'batch' }, /the API group "batch" has no resource "deployment"/],
    [{ verb: 'GET' }, /the verb "GET" is not a Kubernetes verb/],
  ])('a malformed question (%j) throws, naming the bad value', (more, message) => {
    const report = AccessReport.fromAssemblyDirectory(assemblyWith({ A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['system:masters'])]) }));
    expect(() => report.canI(ask(SESSION, 'get', 'pods', more))).toThrow(message);
  });

  test.each([
    ['arn:aws:iam::111122223333:root'], ['arn:aws:sts::111122223333:federated-user/bob'],
  ])('%s (a principal aws-iam-authenticator canonicalizes) is a question, answered no here', (principalArn) => {
    const report = AccessReport.fromAssemblyDirectory(assemblyWith({ A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['system:masters'])]) }));
    expect(report.canI(ask(principalArn, 'get', 'pods')).allowed).toBe(false);
    // a subresource discovery does not list (the kubelet authorizes nodes/metrics) is asked as it is
    expect(report.canI(ask(SESSION, 'get', 'nodes/metrics')).allowed).toBe(true);
  });

  test.each([
    ['deployments', undefined, 'apps/deployments'],
    ['deployment', undefined, 'apps/deployments'],
    ['deployment', 'apps', 'apps/deployments'],
    ['pod', undefined, 'pods'],
    ['pod/exec', undefined, 'pods/exec'],
    ['cronjob', undefined, 'batch/cronjobs'],
    ['widgets', 'example.com', 'example.com/widgets'],
    ['deployments.apps', undefined, 'apps/deployments'],
  ])('%s (apiGroup %s) is asked as %s (the pinned kube-apiserver\'s discovery)', (resource, apiGroup, asked) => {
    const r = {
      Type: 'Custom::AWSCDK-EKS-KubernetesResource',
      Properties: {
        ClusterName: { Ref: 'C' },
        Manifest: JSON.stringify([
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'one' }, rules: [{ apiGroups: [asked.includes('/') && !asked.startsWith('pods') ? asked.split('/')[0] : ''], resources: [asked.includes('/') && !asked.startsWith('pods') ? asked.split('/')[1] : asked], verbs: ['get'] }] },
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'one' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'one' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'g' }] },
        ]),
      },
    };
    const report = AccessReport.fromAssemblyDirectory(assemblyWith({ A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['g'])]), R: r }));
    expect(report.canI(ask(SESSION, 'get', resource, { ...(apiGroup !== undefined ? { apiGroup } : {}), namespaceName: 'a' })).allowed).toBe(true);
  });
});

describe('--check findings, each provoked by a deliberately bad template', () => {
  test.each([
    ['pathed-role-arn', { A: awsAuth([role('arn:aws:iam::111122223333:role/team/Dev', ['g'])]), B: binding('g') }, /\[pathed-role-arn\].*role\/team\/Dev with its IAM path.*Use arn:aws:iam::111122223333:role\/Dev\./],
    ['duplicate-arn', { A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['g']), role('arn:aws:iam::111122223333:role/dev', ['g'])]), B: binding('g') }, /\[duplicate-arn\].*two entries for arn:aws:iam::111122223333:role\/dev/],
    ['unbound-group', { A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['lonely'])]) }, /\[unbound-group\].*group lonely is mapped/],
    ['unmapped-binding', { A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['g'])]), B: binding('g'), D: binding('orphan') }, /\[unmapped-binding\].*group orphan/],
    ['too-many-admins', { A: awsAuth([1, 2, 3, 4].map(i => role(`arn:aws:iam::111122223333:role/A${i}`, ['system:masters']))) }, /\[too-many-admins\].*4 principals are cluster admin.*limit is 3/],
    ['reserved-prefix', { A: awsAuth([role('arn:aws:iam::111122223333:role/Dev', ['g'], 'system:admin')]), B: binding('g') }, /\[reserved-prefix\].*"system:admin"/],
  ])('%s', (kind, resources, message) => {
    const run = cli('report', assemblyWith(resources), '--check');
    expect(run.stdout).toMatch(message);
    expect(run.stdout.match(/\[([a-z-]+)\]/g)).toEqual([`[${kind}]`]); // exactly the provoked finding
    expect(run.status).toBe(1);
  });

  test('node entries as EKS writes them (Windows ones with eks:kube-proxy-windows) are no finding', () => {
    const nodes = [
      role('arn:aws:iam::111122223333:role/Linux', ['system:bootstrappers', 'system:nodes'], 'system:node:{{EC2PrivateDNSName}}'),
      role('arn:aws:iam::111122223333:role/Windows', ['system:bootstrappers', 'system:nodes', 'eks:kube-proxy-windows'], 'system:node:{{EC2PrivateDNSName}}'),
    ];
    const run = cli('report', assemblyWith({ A: awsAuth(nodes) }), '--check');
    expect(run.stdout).not.toMatch(/\[[a-z-]+\]/);
    expect(run.status).toBe(0);
  });

  test('--max-admins raises the limit', () => {
    const dir = assemblyWith({ A: awsAuth([1, 2, 3, 4].map(i => role(`arn:aws:iam::111122223333:role/A${i}`, ['system:masters']))) });
    expect(cli('report', dir, '--check', '--max-admins', '4').status).toBe(0);
  });

  test('without --check findings are printed but the exit code is 0', () => {
    expect(cli('report', assemblyWith({ A: awsAuth([role('arn:aws:iam::111122223333:role/x/Dev', ['g'])]), B: binding('g') })).status).toBe(0);
  });
});

test('fromAssemblyDirectory reads every stack of an app', () => {
  const dir = assemblyOf(app => {
    testCluster(new Stack(app, 'One'));
    testCluster(new Stack(app, 'Two'));
  });
  const report = AccessReport.fromAssemblyDirectory(dir);
  expect(report.clusters).toHaveLength(2);
  expect(() => report.canI(ask('arn:aws:iam::1:role/x', 'get', 'pods'))).toThrow(/2 clusters .* say which in CanIRequest.cluster/);
});

// The README's jest example, verbatim apart from building the example stack.
test('the SSO readers cannot read Secrets', () => {
  const stack = buildExampleStack(new App({ ...TEST_APP_PROPS }));
  const report = AccessReport.fromStack(stack);
  const answer = report.canI({
    principalArn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01/alice@example.com',
    verb: 'get',
    resource: 'secrets',
    namespaceName: 'team-a',
  });
  expect(answer.allowed).toBe(false);
  expect(report.canI({ ...answer, principalArn: 'arn:aws:iam::111122223333:role/ci', verb: 'patch', resource: 'deployments', apiGroup: 'apps', namespaceName: 'apps' }).allowed).toBe(true);
});

describe('roles and users created in the app', () => {
  test('read by construct path (or their literal name), never as an unresolved token', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    cluster.grantRole(new iam.Role(stack, 'Deployer', { assumedBy: new iam.AccountRootPrincipal() }), AccessLevel.namespaceEdit('apps'));
    cluster.grantRole(new iam.Role(stack, 'Named', { roleName: 'ci-named', assumedBy: new iam.AccountRootPrincipal() }), AccessLevel.namespaceView('apps'));
    const text = AccessReport.fromStack(stack).toText();
    expect(text).toMatch(/arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:role\/<Test\/Deployer> +role:<Test\/Deployer>:\{\{SessionName\}\}/);
    expect(text).toMatch(/arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:role\/ci-named +role:ci-named:\{\{SessionName\}\}/);
    expect(text).toMatch(/role\/<Test\/Cluster\/AdminRole>/); // the EksCluster's admin role
    // no logical-id token for a principal (the cluster's name below is the cluster's own)
    expect(text.split('kubectl access')[0]).not.toMatch(/\$\{(?!AWS::)[^}]*\}/);
    expect(text).toMatch(/^ +aws eks update-kubeconfig .* --role-arn arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:role\/<Test\/Deployer>$/m);
  });

  test('from a cloud assembly: the aws:cdk:path metadata cdk synth writes', () => {
    const dir = assemblyOf(app => {
      const stack = new Stack(app, 'Meta');
      testCluster(stack).grantRole(new iam.Role(stack, 'Deployer', { assumedBy: new iam.AccountRootPrincipal() }), AccessLevel.namespaceEdit('apps'));
    });
    const assemblyManifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const file = path.join(dir, assemblyManifest.artifacts.Meta.properties.templateFile);
    const template = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const [id, res] of Object.entries<any>(template.Resources)) if (id.startsWith('Deployer')) res.Metadata = { 'aws:cdk:path': 'Meta/Deployer/Resource' };
    fs.writeFileSync(file, JSON.stringify(template));
    expect(AccessReport.fromAssemblyDirectory(dir).toText()).toMatch(/role\/<Meta\/Deployer> +role:<Meta\/Deployer>:\{\{SessionName\}\}/);
  });
});
