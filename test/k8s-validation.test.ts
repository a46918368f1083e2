import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { mixedGrants } from './fixtures';
import { manifests, testCluster, testStack } from './util';

/**
 * scripts/validate-k8s.mjs is the Kubernetes validator the test command runs over every
 * synthesized template. These tests prove it fails on what it must reject, and passes
 * the objects the library generates.
 */
function validate(objects: any[]): { status: number | null; out: string } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-')), 'objects.json');
  fs.writeFileSync(file, JSON.stringify(objects));
  const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'validate-k8s.mjs'), '--objects', file], { encoding: 'utf8' });
  return { status: run.status, out: run.stdout + run.stderr };
}

const binding = (over: any = {}) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'cdk-eks-access:view', namespace: 'team-a' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'cdk-eks-access:team-a:view' }],
  ...over,
});

describe('Kubernetes validator', () => {
  test('every object the library generates for 120 mixed grants is valid', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    cluster.cluster.addNodegroupCapacity('Nodes', { minSize: 1 });
    for (const g of mixedGrants(120)) cluster.grant(g.principal, g.level, g.options);
    const objects = Object.values(manifests(Template.fromStack(stack))).flat();
    expect(objects.map(o => o.kind)).toEqual(expect.arrayContaining(['ConfigMap', 'Namespace', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']));
    const result = validate(objects);
    expect(result.out).toContain('no problems');
    expect(result.status).toBe(0);
  });

  test.each([
    ['an unknown field', binding({ extra: true }), /unknown field "extra"/],
    ['an unknown metadata field', binding({ metadata: { name: 'x', namespace: 'a', owner: 'me' } }), /metadata: unknown field "owner"/],
    ['a wrong apiVersion', binding({ apiVersion: 'rbac.authorization.k8s.io/v1beta1' }), /unexpected apiVersion\/kind/],
    ['a wrong kind', binding({ kind: 'RoleBindings' }), /unexpected apiVersion\/kind/],
    ['a namespace name Kubernetes rejects', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Team_A' } }, /"Team_A" is not a DNS-1123 label/],
    ['an RBAC name with a slash', binding({ metadata: { name: 'a/b', namespace: 'a' } }), /"a\/b" is not a valid RBAC object name/],
    ['a roleRef to a Role that is not generated', binding({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ghost' } }), /Role team-a\/ghost is not generated/],
    ['a roleRef to an unknown ClusterRole', binding({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'viewer' } }), /ClusterRole viewer is neither generated nor built in/],
    ['a roleRef of a bad kind', binding({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'view' } }), /neither Role nor ClusterRole/],
    ['a type the schema rejects', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' }, rules: [{ verbs: 'get' }] }, /schema: .*verbs must be array/],
    ['a pathed role ARN in aws-auth', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: JSON.stringify([{ rolearn: 'arn:aws:iam::111122223333:role/x/R', username: 'r', groups: ['g'] }]) } }, /has a path/],
    ['a duplicate ARN in aws-auth', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: JSON.stringify([{ rolearn: 'arn:aws:iam::111122223333:role/R', username: 'r', groups: ['g'] }, { rolearn: 'arn:aws:iam::111122223333:role/r', username: 'r', groups: ['h'] }]) } }, /mapped twice/],
  ])('rejects %s', (_, obj, error) => {
    const result = validate([obj]);
    expect(result.status).toBe(1);
    expect(result.out).toMatch(error);
  });
});
