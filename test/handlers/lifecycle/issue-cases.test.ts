import * as YAML from 'yaml';
import { GO_YAML_V2, Identity, load, resolve, sameIdentity } from './authenticator';
import { AWS_AUTH_PATH, FaultSpec, FaultyApi, RETRY, httpApi } from './model';
import { ACCOUNT, LAST_APPLIED, LEGACY_PRUNE_LABEL, MANAGED_BY } from './versions';
import { DispatchContext, Event, dispatch } from '../../../src/handlers/access-reconciler/index';
import { KubeApi } from '../../../src/handlers/access-reconciler/kube';
import { AWS_AUTH_RESOURCE_TYPE, NAMESPACES_RESOURCE_TYPE, RBAC_RESOURCE_TYPE } from '../../../src/handlers/access-reconciler/protocol';
import { FakeKube, startFakeKube, touch } from '../fake-kube';

/**
 * The sequences of issue 12, driven explicitly (no randomness), each asserting the
 * invariant as the oracle states it. Several fail against the handler as of this commit;
 * that is what they are for.
 */

const STACK = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/App/00000000-0000-0000-0000-000000000001`;
const STACK_RECREATED = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/App/00000000-0000-0000-0000-000000000002`;
const role = (n: string) => `arn:aws:iam::${ACCOUNT}:role/${n}`;
const NODE = { rolearn: role('NodeRole'), username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:bootstrappers', 'system:nodes'] };
const MASTERS = { rolearn: role('MastersRole'), username: 'masters', groups: ['system:masters'] };
const DEV = { rolearn: role('Dev'), username: 'role:Dev:{{SessionName}}', groups: ['system:masters'] };
const QA = { rolearn: role('QA'), username: 'role:QA:{{SessionName}}', groups: ['cdk-eks-access:team-a:edit'] };
const conn = (cluster = 'c1') => ({ ClusterName: cluster, RoleArn: role('KubectlRole') });

let n = 0;
function ev(requestType: Event['RequestType'], type: string, logicalId: string, props: Record<string, any>, extra: Partial<Event> = {}): Event {
  return {
    RequestType: requestType,
    ResourceType: type,
    StackId: STACK,
    RequestId: `req-${++n}`,
    LogicalResourceId: logicalId,
    ResourceProperties: { ServiceToken: 'x', ...conn(), ...props },
    ...extra,
  };
}
const status = (s: string | undefined): DispatchContext => (s ? { stackStatus: async () => s } : {});

function identity(kube: FakeKube, arn: string): Identity | undefined {
  return resolve(load(kube.get(AWS_AUTH_PATH)?.data), arn);
}
function expectResolves(kube: FakeKube, e: { rolearn: string; username: string; groups: string[] }) {
  const got = identity(kube, e.rolearn);
  expect({ arn: e.rolearn, identity: got }).toEqual({ arn: e.rolearn, identity: expect.anything() });
  expect(sameIdentity(got, e)).toBe(true);
}

/** aws-eks's kubectl apply of a whole ConfigMap (three-way: keys of the last applied configuration it no longer has go; the rest of live stays). */
function kubectlApplyAwsAuth(kube: FakeKube, applied: any) {
  const live = kube.get(AWS_AUTH_PATH);
  if (!live) {
    kube.put(AWS_AUTH_PATH, { ...applied, metadata: { ...applied.metadata, annotations: { [LAST_APPLIED]: JSON.stringify(applied) } } });
    return;
  }
  const last = JSON.parse(live.metadata.annotations?.[LAST_APPLIED] ?? '{}');
  const merge = (l: any = {}, la: any = {}, next: any = {}) => {
    const out = { ...l };
    for (const k of Object.keys(la)) if (!(k in next)) delete out[k];
    return { ...out, ...next };
  };
  kube.put(AWS_AUTH_PATH, {
    ...live,
    data: merge(live.data, last.data, applied.data),
    metadata: {
      ...live.metadata,
      labels: merge(live.metadata.labels, last.metadata?.labels, applied.metadata.labels),
      annotations: { ...(live.metadata.annotations ?? {}), [LAST_APPLIED]: JSON.stringify(applied) },
    },
  });
}

let kube: FakeKube;
let api: KubeApi;
beforeEach(async () => {
  kube = await startFakeKube();
  api = httpApi(kube);
});
afterEach(async () => {
  await kube.close();
});

describe('1. a failed first deploy over an aws-auth that aws-eks wrote', () => {
  test.each([['known', true], ['unknown', false]])('stack status %s: NodeRole and MastersRole resolve as before after the rollback', async (_s, known) => {
    // GIVEN: aws-auth as aws-eks's kubectl apply left it
    const oldConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system', labels: { [LEGACY_PRUNE_LABEL]: '' } },
      data: { mapRoles: JSON.stringify([NODE, MASTERS]), mapUsers: '[]', mapAccounts: '[]' },
    };
    kubectlApplyAwsAuth(kube, oldConfigMap);

    // WHEN: the upgrade creates the aws-auth resource (it succeeds), a later resource fails
    const created = await dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [NODE, MASTERS, DEV], MapUsers: [], LegacyPruneLabel: LEGACY_PRUNE_LABEL }),
      api, RETRY, status(known ? 'UPDATE_IN_PROGRESS' : undefined));
    // rollback: aws-eks's manifest goes back to the whole aws-auth (kubectl apply), then the cleanup deletes the new resource
    kubectlApplyAwsAuth(kube, oldConfigMap);
    await dispatch(ev('Delete', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [NODE, MASTERS, DEV], MapUsers: [], LegacyPruneLabel: LEGACY_PRUNE_LABEL },
      { PhysicalResourceId: created.PhysicalResourceId }), api, RETRY, status(known ? 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' : undefined));

    // THEN
    expectResolves(kube, NODE);
    expectResolves(kube, MASTERS);
  });
});

describe('2. a rolled-back upgrade does not delete RBAC objects the previous release applied', () => {
  test.each([['known', true], ['unknown', false]])('stack status %s: the binding is still there', async (_s, known) => {
    // GIVEN: a RoleBinding the previous release applied (managed-by label, no owner annotation)
    kube.put('/api/v1/namespaces/team-a', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'cdk-eks-access:team-a:edit', namespace: 'team-a', labels: { ...MANAGED_BY } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'cdk-eks-access:team-a:edit' }],
    };
    const path = '/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/cdk-eks-access%3Ateam-a%3Aedit';
    kube.put(path, binding);

    // WHEN: the upgrade creates an RBAC chunk holding it, then the rollback's cleanup deletes the chunk
    const chunk = await dispatch(ev('Create', RBAC_RESOURCE_TYPE, 'Rbac0', { Objects: [binding] }), api, RETRY, status(known ? 'UPDATE_IN_PROGRESS' : undefined));
    await dispatch(ev('Delete', RBAC_RESOURCE_TYPE, 'Rbac0', { Objects: [binding] }, { PhysicalResourceId: chunk.PhysicalResourceId }),
      api, RETRY, status(known ? 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' : undefined));

    // THEN
    expect(kube.get(path)?.subjects).toEqual(binding.subjects);
  });
});

describe('3. stale owners and replacements', () => {
  test('a create whose PUT landed, answer lost, cleanup unreachable; the stack re-created (another stack id) is refused, naming the earlier stack\'s record and the fix', async () => {
    const lost: FaultSpec = { invocation: 0, kind: 'lost-then-down', at: 0 };
    await expect(dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [MASTERS, DEV], MapUsers: [] }), new FaultyApi(api, lost, () => undefined), RETRY, status('CREATE_IN_PROGRESS')))
      .rejects.toThrow();
    // a stack of the same name with another id is another stack: what the earlier one wrote stays its own
    await expect(dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [MASTERS, DEV], MapUsers: [] }, { StackId: STACK_RECREATED }), api, RETRY, status('CREATE_IN_PROGRESS')))
      .rejects.toThrow(new RegExp(`role/Dev is already granted in aws-auth by AwsAuth of stack ${STACK.replace(/[/.]/g, '\\$&')}.*kubectl -n kube-system annotate configmap aws-auth owner\\.cdk-eks-access\\.io/[0-9a-f]{40}-`));
    expectResolves(kube, DEV);
  });

  test.each([['the same stack (the resource was created in an update)', STACK]])(
    'a create whose PUT landed, answer lost, cleanup unreachable; re-created in %s; Dev revoked: Dev resolves to nothing the stack wrote', async (_what, secondStackId) => {
      // GIVEN: the first Create's write lands, its answer is lost and the connection stays down (its own cleanup fails)
      const lost: FaultSpec = { invocation: 0, kind: 'lost-then-down', at: 0 };
      await expect(dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [MASTERS, DEV], MapUsers: [] }), new FaultyApi(api, lost, () => undefined), RETRY, status('CREATE_IN_PROGRESS')))
        .rejects.toThrow();
      // the stack rolls back; the provider framework answers the Delete of the failed Create itself

      // WHEN: the next deploy creates it again, and a later update revokes Dev
      const created = await dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [MASTERS, DEV], MapUsers: [] }, { StackId: secondStackId }), api, RETRY, status('CREATE_IN_PROGRESS'));
      await dispatch(ev('Update', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [MASTERS], MapUsers: [] }, {
        StackId: secondStackId,
        PhysicalResourceId: created.PhysicalResourceId,
        OldResourceProperties: { ...conn(), MapRoles: [MASTERS, DEV], MapUsers: [] },
      }), api, RETRY, status('UPDATE_IN_PROGRESS'));

      // THEN
      expect(identity(kube, DEV.rolearn)).toBeUndefined();
      await dispatch(ev('Delete', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [MASTERS], MapUsers: [] }, { StackId: secondStackId, PhysicalResourceId: created.PhysicalResourceId }),
        api, RETRY, status('DELETE_IN_PROGRESS'));
      expect(identity(kube, DEV.rolearn)).toBeUndefined();
    });

  test('the rollback of an update that changed ClusterName leaves both clusters as before', async () => {
    const other = await startFakeKube();
    try {
      const otherApi = httpApi(other);
      const props = { MapRoles: [MASTERS, DEV], MapUsers: [] };
      const created = await dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', props), api, RETRY, status('CREATE_IN_PROGRESS'));
      // WHEN: the update moves it to cluster c2 (a replacement), a later resource fails, the cleanup deletes the new physical resource
      const moved = await dispatch(ev('Update', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { ...conn('c2'), ...props }, {
        PhysicalResourceId: created.PhysicalResourceId, OldResourceProperties: { ...conn(), ...props },
      }), otherApi, RETRY, status('UPDATE_IN_PROGRESS'));
      expect(moved.PhysicalResourceId).not.toEqual(created.PhysicalResourceId);
      await dispatch(ev('Delete', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { ...conn('c2'), ...props }, { PhysicalResourceId: moved.PhysicalResourceId }),
        otherApi, RETRY, status('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'));
      // THEN
      expectResolves(kube, MASTERS);
      expectResolves(kube, DEV);
      expect(identity(other, DEV.rolearn)).toBeUndefined();
      expect(identity(other, MASTERS.rolearn)).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  test('the rollback of a logical-id replacement that changed Dev\'s groups: Dev has the old groups', async () => {
    const oldDev = { ...DEV, groups: ['cdk-eks-access:team-a:view'] };
    const newDev = { ...DEV, groups: ['cdk-eks-access:team-a:edit'] };
    await dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [MASTERS, oldDev], MapUsers: [] }), api, RETRY, status('CREATE_IN_PROGRESS'));
    // WHEN: the new logical id is created, a later resource fails, the cleanup deletes the new one (the old one is untouched)
    const replacement = await dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuthV2', { MapRoles: [MASTERS, newDev], MapUsers: [] }), api, RETRY, status('UPDATE_IN_PROGRESS'));
    await dispatch(ev('Delete', AWS_AUTH_RESOURCE_TYPE, 'AwsAuthV2', { MapRoles: [MASTERS, newDev], MapUsers: [] }, { PhysicalResourceId: replacement.PhysicalResourceId }),
      api, RETRY, status('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'));
    // THEN
    expectResolves(kube, oldDev);
    expectResolves(kube, MASTERS);
  });
});

describe('4. transient errors do not fail a deploy', () => {
  const kinds: Array<FaultSpec['kind']> = ['429', '503', 'throw-before', 'lost-throw', '409'];
  test.each(kinds)('%s during the aws-auth create and during an RBAC create', async kind => {
    await dispatch(ev('Create', NAMESPACES_RESOURCE_TYPE, 'Namespaces', { Namespaces: ['team-a'] }), api, RETRY);
    const faulty = (at: number) => new FaultyApi(api, { invocation: 0, kind, at }, p => { touch(kube, p); });
    kube.put(AWS_AUTH_PATH, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: YAML.stringify([NODE]) } });
    await expect(dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', { MapRoles: [MASTERS, QA], MapUsers: [] }), faulty(0), RETRY)).resolves.toBeDefined();
    expectResolves(kube, QA);
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'b', namespace: 'team-a' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'g' }],
    };
    await expect(dispatch(ev('Create', RBAC_RESOURCE_TYPE, 'Rbac0', { Objects: [binding] }), faulty(kind === 'lost-throw' || kind === '409' ? 0 : 1), RETRY)).resolves.toBeDefined();
    // the racing writer really made the reconciler's write conflict (review: a write of the same content had stopped doing so)
    if (kind === '409') expect(kube.log.filter(l => l.status === 409).map(l => `${l.method} ${l.path}`)).toEqual(['PUT /api/v1/namespaces/kube-system/configmaps/aws-auth']);
  });
});

describe('7. duplicates someone else wrote for an unrelated role', () => {
  const dup = `- groups:\n  - unrelated\n  rolearn: ${role('Unrelated')}\n  username: unrelated\n`;
  const writeDuplicates = () => {
    const cm = kube.get(AWS_AUTH_PATH);
    const mapRoles = YAML.stringify(YAML.parse(cm.data.mapRoles, GO_YAML_V2), GO_YAML_V2) + dup + dup; // eksctl rewrites the section as YAML
    kube.put(AWS_AUTH_PATH, { ...cm, data: { ...cm.data, mapRoles } });
  };
  const unrelatedEntries = () => (YAML.parse(kube.get(AWS_AUTH_PATH).data.mapRoles, GO_YAML_V2) as any[]).filter(e => e.rolearn === role('Unrelated'));

  test.each(['update', 'rollback', 'delete'])('%s succeeds and leaves the duplicates as they were', async operation => {
    const v1 = { MapRoles: [MASTERS, DEV], MapUsers: [] };
    const v2 = { MapRoles: [MASTERS, DEV, QA], MapUsers: [] };
    const created = await dispatch(ev('Create', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', v1), api, RETRY, status('CREATE_IN_PROGRESS'));
    writeDuplicates();
    const before = unrelatedEntries();
    const physical = { PhysicalResourceId: created.PhysicalResourceId };
    if (operation === 'update') {
      await dispatch(ev('Update', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', v2, { ...physical, OldResourceProperties: { ...conn(), ...v1 } }), api, RETRY, status('UPDATE_IN_PROGRESS'));
    } else if (operation === 'rollback') {
      // the update landed before the duplicates; the rollback runs after them (and after another write)
      touch(kube, AWS_AUTH_PATH);
      await dispatch(ev('Update', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', v1, { ...physical, OldResourceProperties: { ...conn(), ...v2 } }), api, RETRY, status('UPDATE_ROLLBACK_IN_PROGRESS'));
    } else {
      await dispatch(ev('Delete', AWS_AUTH_RESOURCE_TYPE, 'AwsAuth', v1, physical), api, RETRY, status('DELETE_IN_PROGRESS'));
    }
    expect(unrelatedEntries()).toEqual(before);
    expect(kube.get(AWS_AUTH_PATH).data.mapRoles).toContain(dup + dup);
  });
});
