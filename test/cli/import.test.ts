import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import { run } from './run';
import { AccessLevel, AccessPrincipal } from '../../src';
import { awsAuth, testCluster, testStack } from '../util';

const SRC = path.join(__dirname, '..', '..', 'src');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'import-'));

function file(content: string, name = 'aws-auth.yaml'): string {
  const f = path.join(tmp(), name);
  fs.writeFileSync(f, content);
  return f;
}

/** aws-auth as kubectl -o yaml prints it. */
function configMapYaml(mapRoles: string, mapUsers = '', extra = ''): string {
  const indent = (s: string) => s.split('\n').map(l => `    ${l}`).join('\n');
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n${indent(mapRoles)}\n`
    + (mapUsers ? `  mapUsers: |\n${indent(mapUsers)}\n` : '') + extra;
}

const SAMPLE_ROLES = `- rolearn: arn:aws:iam::111122223333:role/eks-node
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:iam::111122223333:role/Admin
  username: admin:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_0123456789abcdef
  username: dev:{{SessionName}}
  groups: [developers, readers]`;
const SAMPLE_USERS = `- userarn: arn:aws:iam::111122223333:user/ci/deployer
  username: ci-deployer
  groups: [deployers]`;

/**
 * Type-checks printed statements, each inside a function whose only parameter is its name
 * (an EksCluster). One program for all of them: type-checking aws-cdk-lib's declarations
 * takes seconds, once.
 */
function typecheckAll(snippets: Record<string, { code: string; name?: string }>): Record<string, string[]> {
  const dir = tmp();
  const files = Object.entries(snippets).map(([key, { code, name = 'cluster' }], i) => {
    const f = path.join(dir, `adopt${i}.ts`);
    fs.writeFileSync(f, `import { AccessLevel, AccessPrincipal, EksCluster } from ${JSON.stringify(SRC)};\n`
      + `export function adopt(${name}: EksCluster): void {\n${code}}\n`);
    return { key, f };
  });
  const program = ts.createProgram(files.map(x => x.f), {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    esModuleInterop: true,
    types: ['node'],
    typeRoots: [path.join(__dirname, '..', '..', 'node_modules', '@types')],
  });
  const out: Record<string, string[]> = {};
  for (const { key, f } of files) {
    const source = program.getSourceFile(f)!;
    // only this file's diagnostics: the library itself is checked by its own build
    out[key] = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
      .map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }
  return out;
}

/** Outputs to type-check, collected by the tests and checked once, in the last test. */
const toCheck: Record<string, { code: string; name?: string }> = {};
function typecheckLater(key: string, code: string, name?: string) {
  toCheck[key] = { code, name };
}

/** Runs the printed statements on a new EksCluster; returns the aws-auth entries it synthesizes. */
function execute(code: string) {
  const stack = testStack();
  const cluster = testCluster(stack);
  const js = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
  new Function('cluster', 'AccessLevel', 'AccessPrincipal', js)(cluster, AccessLevel, AccessPrincipal);
  return awsAuth(Template.fromStack(stack));
}

describe('cdk-eks-access import', () => {
  test('the printed statements compile in a function body whose only free name is the cluster, and reproduce every entry', () => {
    const result = run('import', file(configMapYaml(SAMPLE_ROLES, SAMPLE_USERS)));
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/import: 3 grant statements, 0 warnings/);
    typecheckLater('sample', result.stdout);
    // run it: each entry comes out as it went in (username, groups), so the first deploy adopts it
    const entries = execute(result.stdout);
    expect(entries.mapRoles).toEqual(expect.arrayContaining([
      { rolearn: 'arn:aws:iam::111122223333:role/Admin', username: 'admin:{{SessionName}}', groups: ['system:masters'] },
      { rolearn: 'arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_0123456789abcdef', username: 'dev:{{SessionName}}', groups: ['developers', 'readers'] },
    ]));
    expect(entries.mapUsers).toEqual([{ userarn: 'arn:aws:iam::111122223333:user/ci/deployer', username: 'ci-deployer', groups: ['deployers'] }]);
    // the node role is a comment, not a grant
    expect(result.stdout).toMatch(/\/\/ mapRoles item 1 \(arn:aws:iam::111122223333:role\/eks-node\): a node or Fargate role/);
    expect(entries.mapRoles.some(e => e.rolearn?.includes('eks-node'))).toBe(false);
  });

  test('--var names the cluster variable', () => {
    const result = run('import', file(configMapYaml(SAMPLE_ROLES)), '--var', 'prod');
    expect(result.stdout).toMatch(/^prod\.grant\(AccessPrincipal\.fromRoleArn\("arn:aws:iam::111122223333:role\/Admin"\), AccessLevel\.clusterAdmin\(\)/m);
    typecheckLater('--var prod', result.stdout, 'prod');
    expect(run('import', file(configMapYaml(SAMPLE_ROLES)), '--var', 'not a name').status).toBe(2);
  });

  test('kubectl -o json reads as -o yaml does', () => {
    const yamlOut = run('import', file(configMapYaml(SAMPLE_ROLES, SAMPLE_USERS))).stdout;
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: SAMPLE_ROLES, mapUsers: SAMPLE_USERS } });
    const jsonOut = run('import', file(json, 'aws-auth.json')).stdout;
    expect(jsonOut.split('\n').slice(1)).toEqual(yamlOut.split('\n').slice(1)); // the first line names the file
  });

  test('eksctl get iamidentitymapping -o json, and the older form with a second list of accounts', () => {
    const mappings = [
      { rolearn: 'arn:aws:iam::111122223333:role/Admin', username: 'admin:{{SessionName}}', groups: ['system:masters'] },
      { userarn: 'arn:aws:iam::111122223333:user/bob', username: 'bob', groups: ['readers'] },
      { account: '444455556666' },
      { sso: { permissionSetName: 'Ops', accountID: '111122223333' }, username: 'ops:{{SessionName}}', groups: ['ops'] },
    ];
    const current = run('import', file(JSON.stringify(mappings, null, 2), 'eksctl.json'));
    expect(current.status).toBe(0);
    expect(current.stdout).toContain('cluster.grant(AccessPrincipal.fromUserArn("arn:aws:iam::111122223333:user/bob"), AccessLevel.existingGroups(["readers"]), { username: "bob" });');
    expect(current.stdout).toContain('cluster.grant(AccessPrincipal.fromSsoPermissionSetName("Ops"), AccessLevel.existingGroups(["ops"]), { username: "ops:{{SessionName}}" });');
    expect(current.stderr).toMatch(/warning: mapAccounts \(\["444455556666"\]\) maps every role and user/);
    typecheckLater('eksctl', current.stdout);

    const older = `${JSON.stringify(mappings.filter(m => !('account' in m)), null, 2)}\n${JSON.stringify(['444455556666'], null, 2)}\n`;
    const old = run('import', file(older, 'eksctl-old.json'));
    expect(old.status).toBe(0);
    expect(old.stdout.split('\n').slice(1)).toEqual(current.stdout.split('\n').slice(1));
  });

  test('read as aws-iam-authenticator reads it: YAML 1.1, case-insensitive keys, the last of duplicate ARNs', () => {
    const roles = `- RoleArn: arn:aws:iam::111122223333:role/Dev
  username: first
  groups: [a]
- rolearn: arn:aws:iam::111122223333:role/dev
  username: second
  groups: [b]
- rolearn: arn:aws:iam::111122223333:role/Flag
  username: flag
  groups: [on]`;
    const result = run('import', file(configMapYaml(roles)));
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/warning: mapRoles item 1 \(arn:aws:iam::111122223333:role\/Dev\): a later entry maps the same ARN/);
    expect(result.stdout).toContain('AccessPrincipal.fromRoleArn("arn:aws:iam::111122223333:role/dev"), AccessLevel.existingGroups(["b"]), { username: "second" }');
    expect(result.stdout).not.toContain('username: "first"');
    // an unquoted `on` is a boolean in YAML 1.1: the authenticator reads no string there
    expect(result.stderr).toMatch(/mapRoles: item 3's groups is not a list of strings/);
  });

  test.each([
    ['a pathed role ARN', '- rolearn: arn:aws:iam::111122223333:role/teams/Dev\n  username: dev\n  groups: [g]', /has an IAM path: aws-iam-authenticator compares path-less role ARNs/, true],
    ['a pathed SSO role ARN', '- rolearn: arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_X_0123456789abcdef\n  username: x:{{SessionName}}\n  groups: [g]',
      /has an IAM path.*maps arn:aws:iam::111122223333:role\/AWSReservedSSO_X_0123456789abcdef/, true],
    ['a reserved group', '- rolearn: arn:aws:iam::111122223333:role/Dev\n  username: dev\n  groups: [eks:secret]', /the library refuses the group "eks:secret".*reserved prefix/, false],
    ['a reserved username', '- rolearn: arn:aws:iam::111122223333:role/Dev\n  username: system:dev\n  groups: [g]', /the library refuses its username.*reserved prefix "system:"/, false],
    ['a username template without a colon before it', '- rolearn: arn:aws:iam::111122223333:role/Dev\n  username: "{{SessionName}}"\n  groups: [g]', /the library refuses its username/, false],
    ['an item without an ARN', '- username: dev\n  groups: [g]', /mapRoles item 1 \(.*\): aws-iam-authenticator ignores it \(no rolearn\)/, false],
    ['a wildcard', '- rolearn: arn:aws:iam::111122223333:role/dev-*\n  username: dev\n  groups: [g]', /holds "\*" or "\?", which aws-iam-authenticator compares literally .*matches nobody/, false],
    ['no groups', '- rolearn: arn:aws:iam::111122223333:role/Dev\n  username: dev', /maps no groups/, false],
    ['no username', '- rolearn: arn:aws:iam::111122223333:role/Dev\n  groups: [g]', /has no username: the grant gets the library's default one/, true],
    ['a section that does not parse', '- rolearn: [unclosed', /mapRoles is not YAML that this library can read.*may ignore all of it.*none of it is imported/, false],
  ])('%s: a warning on stderr (and as a comment), exit code 0, the code still compiles', (name, roles, warning, grants) => {
    const result = run('import', file(configMapYaml(roles)));
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(warning);
    expect(result.stdout.includes('cluster.grant(')).toBe(grants);
    typecheckLater(name, result.stdout);
  });

  test('--rbac: groups bound to built-in roles become levels; other groups stay', () => {
    const rbac = `apiVersion: v1
kind: List
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: readers, namespace: team-a}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: readers}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: devs, namespace: apps}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: developers}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: auditors}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: auditors}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: root}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: breakglass}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: deployers, namespace: apps}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: deployers}]
`;
    const roles = `- rolearn: arn:aws:iam::111122223333:role/Dev
  username: dev
  groups: [readers, developers, deployers]
- rolearn: arn:aws:iam::111122223333:role/Auditor
  username: auditor
  groups: [auditors]
- rolearn: arn:aws:iam::111122223333:role/BreakGlass
  username: breakglass
  groups: [breakglass]`;
    const result = run('import', file(configMapYaml(roles)), '--rbac', file(rbac, 'rbac.yaml'));
    expect(result.status).toBe(0);
    const grants = result.stdout.split('\n').filter(l => l.startsWith('cluster.grant('));
    expect(grants).toEqual([
      'cluster.grant(AccessPrincipal.fromRoleArn("arn:aws:iam::111122223333:role/Dev"), AccessLevel.namespaceView("team-a"), { username: "dev", groups: ["deployers"] });',
      'cluster.grant(AccessPrincipal.fromRoleArn("arn:aws:iam::111122223333:role/Dev"), AccessLevel.namespaceEdit("apps"), { username: "dev" });',
      'cluster.grant(AccessPrincipal.fromRoleArn("arn:aws:iam::111122223333:role/Auditor"), AccessLevel.clusterView(), { username: "auditor" });',
      'cluster.grant(AccessPrincipal.fromRoleArn("arn:aws:iam::111122223333:role/BreakGlass"), AccessLevel.clusterAdmin(), { username: "breakglass" });',
    ]);
    expect(result.stderr).toMatch(/groups bound to built-in roles become levels: readers \(RoleBinding team-a\/readers → AccessLevel.namespaceView\("team-a"\)\)/);
    expect(result.stderr).toMatch(/remove this entry before the deploy/);
    typecheckLater('--rbac', result.stdout);
    const entries = execute(result.stdout);
    expect(entries.mapRoles.find(e => e.rolearn === 'arn:aws:iam::111122223333:role/Dev')!.groups)
      .toEqual(['cdk-eks-access:apps:edit', 'cdk-eks-access:team-a:view', 'deployers']);
  });

  test('a replaced built-in ClusterRole (no bootstrap label) is not taken for the built-in one', () => {
    const rbac = `kind: List
items:
- {kind: ClusterRole, metadata: {name: view}, rules: []}
- kind: RoleBinding
  metadata: {name: readers, namespace: team-a}
  roleRef: {kind: ClusterRole, name: view}
  subjects: [{kind: Group, name: readers}]
`;
    const result = run('import', file(configMapYaml('- rolearn: arn:aws:iam::111122223333:role/Dev\n  username: dev\n  groups: [readers]')), '--rbac', file(rbac, 'rbac.yaml'));
    expect(result.stdout).toContain('AccessLevel.existingGroups(["readers"])');
  });

  test.each([
    ['a missing file', ['/nonexistent/aws-auth.yaml'], /cannot read \/nonexistent\/aws-auth.yaml/],
    ['text that is neither YAML nor JSON', [':\n  - [ }'], /neither JSON nor YAML/],
    ['another kind of object', ['kind: Secret\nmetadata: {name: x}'], /a Secret, not the ConfigMap aws-auth/],
    ['a scalar', ['hello'], /not an aws-auth ConfigMap/],
  ])('%s: exit code 2 and the reason', (_, [content], message) => {
    const f = content.startsWith('/') ? content : file(content);
    const result = run('import', f);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  // last in the file: jest runs the tests of a file in order
  test('every printed output above type-checks as pasted into a function of the cluster', () => {
    expect(Object.keys(toCheck).length).toBeGreaterThanOrEqual(13);
    // a deliberately broken one proves that the check sees errors
    const { broken, ...diagnostics } = typecheckAll({ ...toCheck, broken: { code: 'cluster.grant(AccessPrincipal.fromRoleArn(1), AccessLevel.view());\n' } });
    expect(broken.join('\n')).toMatch(/not assignable to parameter of type 'string'[\s\S]*Property 'view' does not exist/);
    for (const [key, problems] of Object.entries(diagnostics)) expect({ key, problems }).toEqual({ key, problems: [] });
  });
});
