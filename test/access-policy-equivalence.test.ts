import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { AccessLevel, AccessPrincipal, AccessReport, BuiltInLevelBackend, ClusterAccess } from '../src';
import { RESOURCES, VERBS } from './access-grid';
import { testStack } from './util';

/**
 * For each built-in level, `canI` over a grid of verbs, resources and namespaces answers
 * the same through EKS access policies as through RBAC (the built-in ClusterRoles),
 * except the differences EKS's published policy rules have, which are asserted as
 * differences (and documented in the README, "Access policies").
 */
const LEVELS: Array<[string, AccessLevel]> = [
  ['cluster-view', AccessLevel.clusterView()],
  ['namespace-view', AccessLevel.namespaceView('team-a')],
  ['namespace-edit', AccessLevel.namespaceEdit('team-a')],
  ['namespace-admin', AccessLevel.namespaceAdmin('team-a')],
  ['cluster-admin', AccessLevel.clusterAdmin()],
];
const arnOf = (name: string) => `arn:aws:iam::111122223333:role/${name}`;

function report(backend: BuiltInLevelBackend): AccessReport {
  const stack = testStack();
  const cluster = new eksv2.Cluster(stack, 'V2', { version: eksv2.KubernetesVersion.V1_35, bootstrapClusterCreatorAdminPermissions: false });
  const access = ClusterAccess.ofV2(cluster, { builtInLevelBackend: backend });
  for (const [name, level] of LEVELS) access.grant(AccessPrincipal.fromRoleArn(arnOf(name)), level);
  return AccessReport.fromStack(stack);
}

const NAMESPACES = ['team-a', 'team-b', undefined];


function answers(r: AccessReport, level: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const verb of VERBS) {
    for (const [apiGroup, resource] of RESOURCES) {
      for (const namespace of NAMESPACES) {
        const key = `${verb} ${apiGroup ? apiGroup + '/' : ''}${resource} ${namespace ?? '(cluster)'}`;
        out.set(key, r.canI({ principalArn: arnOf(level), verb, resource, apiGroup, namespaceName: namespace }).allowed);
      }
    }
  }
  return out;
}

/** Where the access policy allows less than the ClusterRole (EKS's published rules, read 2026-11-29). */
const POLICY_LACKS_EDIT = [
  'create pods/eviction team-a',
  'create serviceaccounts/token team-a',
  ...['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'].map(v => `${v} coordination.k8s.io/leases team-a`),
];
/**
 * Kubernetes lets a user write a Role or binding only with its permissions held through
 * RBAC or with `escalate`/`bind`; access-policy permissions do not count and
 * AmazonEKSAdminPolicy lacks both verbs (aws/containers-roadmap#2682), so a namespace admin
 * through the policy cannot create or change Roles and RoleBindings.
 */
const POLICY_CANNOT_DELEGATE = ['create', 'update', 'patch']
  .flatMap(v => [`${v} rbac.authorization.k8s.io/roles team-a`, `${v} rbac.authorization.k8s.io/rolebindings team-a`]);
const DIFFERENCES: Record<string, string[]> = {
  'cluster-view': [],
  'namespace-view': [],
  'namespace-edit': POLICY_LACKS_EDIT,
  'namespace-admin': [...POLICY_LACKS_EDIT, ...POLICY_CANNOT_DELEGATE],
  'cluster-admin': [],
};

describe('access policies answer like the built-in ClusterRoles', () => {
  const viaPolicies = report(BuiltInLevelBackend.ACCESS_POLICY);
  const viaRbac = report(BuiltInLevelBackend.RBAC);

  test.each(LEVELS.map(([name]) => [name]))('%s: the same answers over the grid, except the documented differences', (level) => {
    const policy = answers(viaPolicies, level);
    const rbac = answers(viaRbac, level);
    const differ = Array.from(policy.keys()).filter(k => policy.get(k) !== rbac.get(k));
    // every difference is one where RBAC allows and the policy does not
    for (const k of differ) expect([k, rbac.get(k)]).toEqual([k, true]);
    expect(differ.sort()).toEqual([...DIFFERENCES[level]].sort());
    // the grid is not vacuous: each level allows something and denies something
    expect(Array.from(policy.values())).toContain(true);
    if (level !== 'cluster-admin') expect(Array.from(policy.values())).toContain(false);
  });

  test('a namespace admin through the access policy may read and delete RoleBindings but not create them, and is told why', () => {
    const ask = (verb: string, level = 'namespace-admin') => viaPolicies.canI({
      principalArn: arnOf(level), verb, resource: 'rolebindings', apiGroup: 'rbac.authorization.k8s.io', namespaceName: 'team-a',
    });
    expect(['get', 'list', 'delete', 'create'].map(v => ask(v).allowed)).toEqual([true, true, true, false]);
    expect(ask('create').reason).toMatch(/only with the permissions it grants held through RBAC.*bind verb, which the policy lacks/);
    // the cluster-admin policy has every verb, escalate and bind included
    expect(ask('create', 'cluster-admin').allowed).toBe(true);
  });

  test('the answers name the access policy and its scope', () => {
    const answer = viaPolicies.canI({ principalArn: arnOf('namespace-view'), verb: 'list', resource: 'pods', namespaceName: 'team-a' });
    expect(answer.reason).toMatch(/has the access policy AmazonEKSViewPolicy \(namespace team-a scope\)/);
    expect(viaPolicies.canI({ principalArn: arnOf('namespace-view'), verb: 'list', resource: 'pods', namespaceName: 'team-b' }).reason)
      .toMatch(/no access policy \(AmazonEKSViewPolicy\)/);
  });

  test('a namespace pattern matches by prefix', () => {
    const stack = testStack();
    const cluster = new eksv2.Cluster(stack, 'V2', { version: eksv2.KubernetesVersion.V1_35, bootstrapClusterCreatorAdminPermissions: false });
    const access = ClusterAccess.ofV2(cluster);
    access.grant(AccessPrincipal.fromRoleArn(arnOf('admin')), AccessLevel.clusterAdmin());
    access.grant(AccessPrincipal.fromRoleArn(arnOf('dev')), AccessLevel.namespaceEdit('dev-*'));
    const r = AccessReport.fromStack(stack);
    const can = (namespace: string) => r.canI({ principalArn: arnOf('dev'), verb: 'create', resource: 'deployments', apiGroup: 'apps', namespaceName: namespace }).allowed;
    expect([can('dev-a'), can('dev-0'), can('dev'), can('prod-dev-a')]).toEqual([true, true, false, false]);
    // "dev-" itself is no namespace name (a DNS-1123 label ends with a letter or digit): a malformed question
    expect(() => can('dev-')).toThrow(/the namespace "dev-" is not a valid Kubernetes namespace name/);
    expect(r.toText()).toMatch(/ns dev-\*: access policy AmazonEKSEditPolicy/);
  });
});
