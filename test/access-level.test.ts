import { AccessLevel } from '../src';

describe('AccessLevel', () => {
  test('clusterAdmin maps to system:masters and generates nothing', () => {
    const level = AccessLevel.clusterAdmin();
    expect(level.group).toBe('system:masters');
    expect(level.isClusterAdmin).toBe(true);
    expect(level._objects()).toEqual([]);
  });

  test('clusterView binds the built-in view ClusterRole cluster-wide (no Secrets)', () => {
    const level = AccessLevel.clusterView();
    expect(level.group).toBe('cdk-eks-access:cluster-view');
    expect(level._objects()).toEqual([expect.objectContaining({
      kind: 'ClusterRoleBinding',
      metadata: expect.objectContaining({ name: 'cdk-eks-access:cluster-view' }),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'cdk-eks-access:cluster-view' }],
    })]);
  });

  test.each([
    ['namespaceAdmin', AccessLevel.namespaceAdmin, 'admin'],
    ['namespaceEdit', AccessLevel.namespaceEdit, 'edit'],
    ['namespaceView', AccessLevel.namespaceView, 'view'],
  ])('%s binds the built-in %s ClusterRole inside the namespace only', (_, factory, clusterRole) => {
    const level = factory('team-a');
    expect(level.namespaceName).toBe('team-a');
    expect(level.group).toBe(`cdk-eks-access:team-a:${clusterRole}`);
    expect(level._objects()).toEqual([{
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `cdk-eks-access:${clusterRole}`, namespace: 'team-a', labels: { 'app.kubernetes.io/managed-by': 'cdk-eks-access' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `cdk-eks-access:team-a:${clusterRole}` }],
    }]);
  });

  describe('namespace patterns (access-policy scopes)', () => {
    test.each(['dev-*', 'a*', 'team-0*'])('%s is accepted by the built-in namespace levels', (ns) => {
      expect(AccessLevel.namespaceView(ns).namespaceName).toBe(ns);
      expect(AccessLevel.namespaceEdit(ns).namespaceName).toBe(ns);
      expect(AccessLevel.namespaceAdmin(ns).namespaceName).toBe(ns);
    });

    test.each([
      ['*', /"\*" is not a valid namespace pattern/],
      ['Dev-*', /"Dev-\*" is not a valid namespace pattern/],
      ['-dev*', /is not a valid namespace pattern/],
      ['dev-*-x', /"dev-\*-x" is not a valid Kubernetes namespace name/],
      ['dev**', /"dev\*\*" is not a valid namespace pattern/],
      [`${'a'.repeat(63)}*`, /is not a valid namespace pattern.*at most 63 characters/],
    ])('%s is refused, naming the value and the form', (ns, message) => {
      expect(() => AccessLevel.namespaceView(ns)).toThrow(message);
    });

    test('custom levels (always RBAC) refuse patterns', () => {
      expect(() => AccessLevel.custom({ namespaceName: 'dev-*', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }))
        .toThrow(/AccessLevel.custom\(\): "dev-\*" is not a valid Kubernetes namespace name/);
    });
  });

  describe('custom', () => {
    const rules = [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch', 'get'] }];

    test('namespaced: a Role with exactly the rules, bound to the derived group', () => {
      const level = AccessLevel.custom({ namespaceName: 'apps', rules });
      const [role, binding] = level._objects();
      expect(role).toMatchObject({ kind: 'Role', metadata: { namespace: 'apps' }, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }] });
      expect(binding).toMatchObject({ kind: 'RoleBinding', metadata: { namespace: 'apps', name: role.metadata.name }, roleRef: { kind: 'Role', name: role.metadata.name }, subjects: [{ kind: 'Group', name: level.group }] });
      expect(level.group).toMatch(/^cdk-eks-access:apps:custom-[0-9a-f]{12}$/);
    });

    test('cluster-wide: a ClusterRole and ClusterRoleBinding, nonResourceURLs allowed', () => {
      const level = AccessLevel.custom({ rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] });
      const [role, binding] = level._objects();
      expect(role).toMatchObject({ kind: 'ClusterRole', rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] });
      expect(role.metadata.namespace).toBeUndefined();
      expect(binding).toMatchObject({ kind: 'ClusterRoleBinding', roleRef: { kind: 'ClusterRole', name: role.metadata.name } });
      expect(level.group).toMatch(/^cdk-eks-access:cluster:custom-/);
    });

    test('the same rules in another order give the same group; other rules another', () => {
      const a = AccessLevel.custom({ namespaceName: 'apps', rules: [...rules, { apiGroups: [''], resources: ['pods'], verbs: ['get'] }] });
      const b = AccessLevel.custom({ namespaceName: 'apps', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'get'] }, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }] });
      const c = AccessLevel.custom({ namespaceName: 'other', rules });
      expect(a.group).toBe(b.group);
      expect(a._objects()).toEqual(b._objects());
      expect(c.group).not.toBe(AccessLevel.custom({ namespaceName: 'apps', rules }).group);
    });

    test('does not mutate the caller\'s rules', () => {
      const input = [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch', 'get'] }];
      AccessLevel.custom({ rules: input });
      expect(input[0].verbs).toEqual(['patch', 'get']);
    });

    test.each([
      ['no rules', { rules: [] }, /rules is empty/],
      ['empty verbs', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] }, /rules\[0\].verbs is empty/],
      ['unknown verb', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['read'] }] }, /rules\[0\].verbs has "read", which is not a Kubernetes verb/],
      ['uppercase verb', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['GET'] }] }, /"GET"/],
      ['no apiGroups', { rules: [{ resources: ['pods'], verbs: ['get'] }] }, /apiGroups is empty \(use \[''\] for the core group/],
      ['no resources', { rules: [{ apiGroups: [''], verbs: ['get'] }] }, /resources is empty/],
      ['HTTP verb on resources', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['post'] }] }, /"post"/],
      ['resource verb on URLs', { rules: [{ nonResourceURLs: ['/healthz'], verbs: ['list'] }] }, /lowercase HTTP methods/],
      ['URLs in a namespace', { namespaceName: 'a', rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] }, /only cluster-wide rules/],
      ['URLs mixed with resources', { rules: [{ apiGroups: [''], resources: ['pods'], nonResourceURLs: ['/x'], verbs: ['get'] }] }, /mixes nonResourceURLs/],
      ['bad namespace', { namespaceName: 'Team', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }, /"Team" is not a valid Kubernetes namespace/],
    ])('%s is rejected', (_, options: any, error) => {
      expect(() => AccessLevel.custom(options)).toThrow(error);
    });

    test('options with the old field name "namespace" throw instead of becoming cluster-wide rules', () => {
      // a variable (or a spread) passes TypeScript's excess-property check; JavaScript has none
      const options = { namespace: 'apps', rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }] };
      expect(() => AccessLevel.custom(options)).toThrow(/the options have "namespace".*the field is "namespaceName"/);
    });

    test('all problems of one rule set are reported together', () => {
      expect(() => AccessLevel.custom({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['read'] }, { resources: ['x'], verbs: ['get'] }] }))
        .toThrow(/rules\[0\].verbs has "read"[\s\S]*rules\[1\].apiGroups is empty/);
    });
  });
});
