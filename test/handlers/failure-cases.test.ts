import { ADMIN, CONNECTION, DEV, FAST, QA, api, awsAuthEvent, awsAuthOf, event, recordOf } from './events';
import { FakeKube, startFakeKube } from './fake-kube';
import { AWS_AUTH_PATH } from '../../src/handlers/access-reconciler/aws-auth';
import { Event, dispatch, handlerFailure } from '../../src/handlers/access-reconciler/index';
import { RBAC_RESOURCE_TYPE } from '../../src/handlers/access-reconciler/protocol';

/**
 * Failures of the reconciler that a deploy can run into, each driven against the handler
 * (on the loopback API here; test/handlers/on-real-api-server runs this file on the real
 * kube-apiserver).
 */

let kube: FakeKube;
beforeEach(async () => {
  kube = await startFakeKube();
});
afterEach(async () => kube.close());

/** Runs `fn` with console.error captured; returns what it printed. */
async function capturingErrors(fn: () => Promise<unknown>): Promise<string> {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => {});
  try {
    await fn();
    return spy.mock.calls.map(c => c.join(' ')).join('\n');
  } finally {
    spy.mockRestore();
  }
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';
const binding = (ns: string, name: string) => ({
  apiVersion: RBAC_API,
  kind: 'RoleBinding',
  metadata: { name, namespace: ns },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `cdk-eks-access:${ns}:view` }],
});

/** The namespace team-a (as the stack's namespaces resource would create it) and two view bindings in it. */
function teamA(): [a: ReturnType<typeof binding>, b: ReturnType<typeof binding>] {
  kube.put('/api/v1/namespaces/team-a', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  return [binding('team-a', 'a-view'), binding('team-a', 'b-view')];
}

describe('an RBAC resource writes RBAC objects only', () => {
  test('a ConfigMap aws-auth or a Namespace among its objects is refused before anything is written', async () => {
    // GIVEN: aws-auth as EKS left it
    await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);
    const before = JSON.stringify(kube.get(AWS_AUTH_PATH).data);
    const objects = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: '[]' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant' } },
      binding('default', 'reader'),
    ];

    // WHEN
    const create = dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: objects }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);

    // THEN
    await expect(create).rejects.toThrow(/v1 ConfigMap kube-system\/aws-auth is not an RBAC object\. v1 Namespace tenant is not an RBAC object\..*Nothing was written\. Remove the other objects from Objects\./);
    expect(JSON.stringify(kube.get(AWS_AUTH_PATH).data)).toBe(before);
    expect(kube.get('/api/v1/namespaces/tenant')).toBeUndefined();
    expect(kube.get(`/apis/${RBAC_API}/namespaces/default/rolebindings/reader`)).toBeUndefined();
  });

  test('a Namespace in the old properties is never deleted: left out of the release, and logged', async () => {
    // GIVEN: a namespace that exists, and properties of an earlier version that named it
    kube.put('/api/v1/namespaces/tenant', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant', labels: { 'app.kubernetes.io/managed-by': 'cdk-eks-access' } } });
    const old = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant' } }, binding('tenant', 'reader')];

    // WHEN: the stack is deleted
    const log = await capturingErrors(() => dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: old }, { LogicalResourceId: 'Rbac', PhysicalResourceId: 'p' }), api(kube), FAST));

    // THEN
    expect(kube.get('/api/v1/namespaces/tenant')).toBeDefined();
    expect(log).toMatch(/left alone \(not an RBAC object, so never deleted\): v1 Namespace tenant/);
  });
});

describe('revoking really revokes', () => {
  const FORWARD = { stackStatus: async () => 'UPDATE_IN_PROGRESS' };
  const MASTERS = { ...DEV, groups: ['system:masters'] };

  async function grantThenEdit(edit: (mapRoles: string) => string) {
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN, MASTERS]), api(kube), FAST);
    const cm = kube.get(AWS_AUTH_PATH);
    kube.put(AWS_AUTH_PATH, { ...cm, data: { ...cm.data, mapRoles: edit(cm.data.mapRoles) } });
    return PhysicalResourceId;
  }
  const revoke = (physicalId: string) => awsAuthEvent('Update', [ADMIN], [], {
    PhysicalResourceId: physicalId, OldResourceProperties: { ServiceToken: 'x', ...CONNECTION, MapRoles: [ADMIN, MASTERS], MapUsers: [] },
  });

  test('an identical copy of the revoked entry (old eksctl duplicated on every run) fails the revocation instead of leaving system:masters', async () => {
    const id = await grantThenEdit(m => `${m}- ${JSON.stringify({ rolearn: MASTERS.rolearn, username: MASTERS.username, groups: MASTERS.groups })}\n`);
    const before = JSON.stringify(kube.get(AWS_AUTH_PATH).data);
    await expect(dispatch(revoke(id), api(kube), FAST, FORWARD)).rejects.toThrow(
      /^arn:aws:iam::111122223333:role\/Dev is revoked, but aws-auth has other entries that also map it to groups this stack granted \(mapRoles item 3 .*"system:masters".*\), so aws-iam-authenticator would still grant them\. Nothing was written\. Remove those entries by hand/);
    expect(JSON.stringify(kube.get(AWS_AUTH_PATH).data)).toBe(before);
  });

  test('the stack\'s own entry edited by hand fails the revocation, naming the edit', async () => {
    const id = await grantThenEdit(m => m.split('\n').map(l => (l.includes('role/Dev') ? l.replace('"system:masters"', '"system:masters","ops"') : l)).join('\n'));
    await expect(dispatch(revoke(id), api(kube), FAST, FORWARD)).rejects.toThrow(
      /role\/Dev is revoked, but the entry this stack wrote for it .* was changed by someone else since \(mapRoles item 2 .*"ops".*\); it is theirs now, so it stays/);
  });

  test('another mapping of the principal to other groups (someone else\'s grant) does not stop the revocation', async () => {
    const id = await grantThenEdit(m => `${m}- ${JSON.stringify({ rolearn: MASTERS.rolearn, username: 'other', groups: ['viewers'] })}\n`);
    const log = await capturingErrors(() => dispatch(revoke(id), api(kube), FAST, FORWARD));
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN, { rolearn: MASTERS.rolearn, username: 'other', groups: ['viewers'] }]);
    expect(log).toBe('');
  });

  test('a rollback over such a copy does not fail (it makes nothing worse)', async () => {
    const copy = { rolearn: MASTERS.rolearn, username: MASTERS.username, groups: MASTERS.groups };
    const id = await grantThenEdit(m => `${m}- ${JSON.stringify(copy)}\n`);
    const log = await capturingErrors(() => dispatch(revoke(id), api(kube), FAST, { stackStatus: async () => 'UPDATE_ROLLBACK_IN_PROGRESS' }));
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN, copy]);
    expect(log).toMatch(/THEIR ACCESS REMAINS.*role\/Dev/);
  });

  test('the cleanup after an update (never retried by CloudFormation) removes what the stack wrote and logs the copy, instead of failing and leaving everything', async () => {
    const copy = { rolearn: MASTERS.rolearn, username: MASTERS.username, groups: MASTERS.groups };
    const id = await grantThenEdit(m => `${m}- ${JSON.stringify(copy)}\n`);
    const log = await capturingErrors(() => dispatch(awsAuthEvent('Delete', [ADMIN, MASTERS], [], { PhysicalResourceId: id }), api(kube), FAST,
      { stackStatus: async () => 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS' }));
    expect(awsAuthOf(kube).mapRoles).toEqual([copy]);
    expect(log).toMatch(/THEIR ACCESS REMAINS until someone removes them .*role\/Dev: mapRoles item 3/);
  });

  test('a rollback\'s cleanup that cannot put back the replaced instance\'s entry keeps what the deleted instance wrote recorded, so a later revocation removes it', async () => {
    // GIVEN: AwsAuth granted Dev view; a replacement (another logical id) made it system:masters; then an operator mapped Dev a second time
    const view = { ...DEV, groups: ['cdk-eks-access:cluster-view'] };
    await dispatch(awsAuthEvent('Create', [ADMIN, view]), api(kube), FAST, { stackStatus: async () => 'CREATE_IN_PROGRESS' });
    const replaced = await dispatch(awsAuthEvent('Create', [ADMIN, MASTERS], [], { LogicalResourceId: 'AwsAuthV2' }), api(kube), FAST, FORWARD);
    const cm = kube.get(AWS_AUTH_PATH);
    const second = { rolearn: DEV.rolearn, username: 'by-hand', groups: ['hand-made'] };
    kube.put(AWS_AUTH_PATH, { ...cm, data: { ...cm.data, mapRoles: `${cm.data.mapRoles}- ${JSON.stringify(second)}\n` } });

    // WHEN: the rollback's cleanup deletes the replacement
    await capturingErrors(() => dispatch(awsAuthEvent('Delete', [ADMIN, MASTERS], [], { LogicalResourceId: 'AwsAuthV2', PhysicalResourceId: replaced.PhysicalResourceId }),
      api(kube), FAST, { stackStatus: async () => 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' }));

    // THEN
    expect(recordOf(kube).current.claims.map(c => c.arn)).toContain(DEV.rolearn);
  });
});

describe('a rollback never refuses a state it does not make worse', () => {
  const ROLLBACK = { stackStatus: async () => 'UPDATE_ROLLBACK_IN_PROGRESS' };
  const FORWARD = { stackStatus: async () => 'UPDATE_IN_PROGRESS' };
  const oldProps = (props: object) => ({ OldResourceProperties: { ServiceToken: 'x', ...CONNECTION, ...props } });

  test('an operator\'s second aws-auth entry for one of the stack\'s principals: the rollback succeeds, logs it, and leaves both entries', async () => {
    // GIVEN: a failed update granted QA; meanwhile an operator mapped DEV a second time
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST);
    await dispatch(awsAuthEvent('Update', [ADMIN, DEV, QA], [], { PhysicalResourceId, ...oldProps({ MapRoles: [ADMIN, DEV], MapUsers: [] }) }), api(kube), FAST, FORWARD);
    const cm = kube.get(AWS_AUTH_PATH);
    const second = { rolearn: DEV.rolearn, username: 'by-hand', groups: ['hand-made'] };
    kube.put(AWS_AUTH_PATH, { ...cm, data: { ...cm.data, mapRoles: `${cm.data.mapRoles}- ${JSON.stringify(second)}\n` } });

    // WHEN: the rollback
    const log = await capturingErrors(() => dispatch(awsAuthEvent('Update', [ADMIN, DEV], [], { PhysicalResourceId, ...oldProps({ MapRoles: [ADMIN, DEV, QA], MapUsers: [] }) }), api(kube), FAST, ROLLBACK));

    // THEN: QA is gone, DEV's two entries stay, and the next forward deploy still sees DEV as the stack's
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN, DEV, second]);
    expect(log).toMatch(/not rolled back: aws-auth has more than one entry that matches arn:aws:iam::111122223333:role\/Dev/);
    await expect(dispatch(awsAuthEvent('Update', [ADMIN], [], { PhysicalResourceId, ...oldProps({ MapRoles: [ADMIN, DEV], MapUsers: [] }) }), api(kube), FAST, FORWARD)).resolves.toBeDefined();
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN, second]);
  });

  test('a tenant removed the library\'s label from its namespace\'s RoleBinding: the rollback succeeds and leaves that binding as the tenant has it', async () => {
    const [a, b] = teamA();
    const rbacEvent = (objects: object[], old: object[], physicalId: string) => event(RBAC_RESOURCE_TYPE, 'Update', { Objects: objects }, { LogicalResourceId: 'Rbac', PhysicalResourceId: physicalId, ...oldProps({ Objects: old }) });
    const { PhysicalResourceId } = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [a] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
    await dispatch(rbacEvent([a, b], [a], PhysicalResourceId), api(kube), FAST, FORWARD);
    const path = `/apis/${RBAC_API}/namespaces/team-a/rolebindings/a-view`;
    const live = kube.get(path);
    const { 'app.kubernetes.io/managed-by': _label, ...labels } = live.metadata.labels;
    kube.put(path, { ...live, metadata: { ...live.metadata, labels } });
    const tenants = JSON.stringify(kube.get(path).metadata.labels);

    const log = await capturingErrors(() => dispatch(rbacEvent([a], [a, b], PhysicalResourceId), api(kube), FAST, ROLLBACK));

    expect(log).toMatch(/not rolled back: RoleBinding team-a\/a-view already exists and was not created by cdk-eks-access/);
    expect(JSON.stringify(kube.get(path).metadata.labels)).toBe(tenants);
    expect(kube.get(`/apis/${RBAC_API}/namespaces/team-a/rolebindings/b-view`)).toBeUndefined();
  });
});

describe('a copy of one of the library\'s objects is not the library\'s', () => {
  test('a RoleBinding cloned from the library\'s (annotations and label come along) survives the stack\'s next RBAC events and its delete', async () => {
    // GIVEN
    const [a, b] = teamA();
    const { PhysicalResourceId } = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [a] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
    // kubectl get rolebinding a-view -o yaml, rename, kubectl create
    const original = kube.get(`/apis/${RBAC_API}/namespaces/team-a/rolebindings/a-view`);
    const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, ...metadata } = original.metadata;
    const clonePath = `/apis/${RBAC_API}/namespaces/team-a/rolebindings/a-clone`;
    kube.put(clonePath, { ...original, metadata: { ...metadata, name: 'a-clone' } });
    expect(Object.keys(kube.get(clonePath).metadata.annotations).some(k => k.startsWith('owner.cdk-eks-access.io/'))).toBe(true);

    // WHEN: an update of the stack's RBAC (its sweep lists every labelled object), then the stack's delete
    const update = event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [a, b] }, {
      LogicalResourceId: 'Rbac', PhysicalResourceId, OldResourceProperties: { ServiceToken: 'x', ...CONNECTION, Objects: [a] },
    });
    await capturingErrors(() => dispatch(update, api(kube), FAST, { stackStatus: async () => 'UPDATE_IN_PROGRESS' }));
    const afterUpdate = kube.get(clonePath);
    await capturingErrors(() => dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [a, b] }, { LogicalResourceId: 'Rbac', PhysicalResourceId }), api(kube), FAST,
      { stackStatus: async () => 'DELETE_IN_PROGRESS' }));

    // THEN
    expect(afterUpdate).toBeDefined();
    expect(kube.get(clonePath)).toBeDefined();
    expect(kube.get(`/apis/${RBAC_API}/namespaces/team-a/rolebindings/a-view`)).toBeUndefined();
  });
});

describe('a logical id renamed by a stack refactoring (no event reaches the handler)', () => {
  test('a sibling\'s sweep 20 minutes later keeps the renamed resource\'s live bindings (its physical id is listed)', async () => {
    // GIVEN: two RBAC resources of the stack; Rbac0 holds a-view
    const [a, b] = teamA();
    const start = Date.now();
    const first = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [a] }, { LogicalResourceId: 'Rbac0' }), api(kube), FAST, { now: () => start });
    const second = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [b] }, { LogicalResourceId: 'Rbac1' }), api(kube), FAST, { now: () => start });

    // WHEN: a refactoring renames Rbac0 to Renamed0 (same physical id); 20 minutes later Rbac1 is updated, and sweeps
    const listing = async () => [
      { logicalId: 'Renamed0', type: RBAC_RESOURCE_TYPE, status: 'UPDATE_COMPLETE', physicalId: first.PhysicalResourceId },
      { logicalId: 'Rbac1', type: RBAC_RESOURCE_TYPE, status: 'UPDATE_IN_PROGRESS', physicalId: second.PhysicalResourceId },
    ];
    const b2 = { ...b, roleRef: { ...b.roleRef, name: 'edit' } };
    await capturingErrors(() => dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [b2] }, {
      LogicalResourceId: 'Rbac1', PhysicalResourceId: second.PhysicalResourceId, OldResourceProperties: { ServiceToken: 'x', ...CONNECTION, Objects: [b] },
    }), api(kube), FAST, { stackStatus: async () => 'UPDATE_IN_PROGRESS', stackResources: listing, now: () => start + 20 * 60_000 }));

    // THEN
    expect(kube.get(`/apis/${RBAC_API}/namespaces/team-a/rolebindings/a-view`)).toBeDefined();
  });
});

describe('two aws-auth resources of one stack on one cluster', () => {
  test('the second create in the stack\'s create is refused and removes nothing of the first (the admin\'s system:masters included)', async () => {
    const CREATING = { stackStatus: async () => 'CREATE_IN_PROGRESS' };
    await dispatch(awsAuthEvent('Create', [ADMIN], [], { LogicalResourceId: 'ProdAccessAwsAuth' }), api(kube), FAST, CREATING);
    const before = JSON.stringify(kube.get(AWS_AUTH_PATH).data);
    await expect(dispatch(awsAuthEvent('Create', [DEV], [], { LogicalResourceId: 'ProdAgainAccessAwsAuth' }), api(kube), FAST, CREATING)).rejects.toThrow(
      /^this stack has two aws-auth resources for one cluster: ProdAccessAwsAuth wrote aws-auth, and ProdAgainAccessAwsAuth would replace what it wrote .*Nothing was written\./);
    expect(JSON.stringify(kube.get(AWS_AUTH_PATH).data)).toBe(before);
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN]);
  });
});

describe('an event delivered again late', () => {
  test('an older aws-auth update delivered again after a newer one changes nothing: the revoked system:masters stays revoked', async () => {
    const MASTERS = { ...DEV, groups: ['system:masters'] };
    const FORWARD = { stackStatus: async () => 'UPDATE_IN_PROGRESS' };
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);
    const props = (roles: object[]) => ({ ServiceToken: 'x', ...CONNECTION, MapRoles: roles, MapUsers: [] });
    const grant = awsAuthEvent('Update', [ADMIN, MASTERS], [], { PhysicalResourceId, OldResourceProperties: props([ADMIN]) });
    const revoke = awsAuthEvent('Update', [ADMIN], [], { PhysicalResourceId, OldResourceProperties: props([ADMIN, MASTERS]) });
    await dispatch(grant, api(kube), FAST, FORWARD);
    await dispatch(revoke, api(kube), FAST, FORWARD);

    // WHEN: the grant's event arrives again (same RequestId)
    const log = await capturingErrors(() => dispatch(grant, api(kube), FAST, FORWARD));

    // THEN
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN]);
    expect(log).toContain(`request ${grant.RequestId} was applied before, and a newer one since`);
  });

  test('an update that changed nothing in aws-auth (only its role) delivered again after a revocation changes nothing', async () => {
    const MASTERS = { ...DEV, groups: ['system:masters'] };
    const FORWARD = { stackStatus: async () => 'UPDATE_IN_PROGRESS' };
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN, MASTERS]), api(kube), FAST);
    const props = (roles: object[], role = CONNECTION.RoleArn) => ({ ServiceToken: 'x', ...CONNECTION, RoleArn: role, MapRoles: roles, MapUsers: [] });
    const roleOnly = awsAuthEvent('Update', [ADMIN, MASTERS], [], {
      PhysicalResourceId, ResourceProperties: props([ADMIN, MASTERS], 'arn:aws:iam::111122223333:role/Other'), OldResourceProperties: props([ADMIN, MASTERS]),
    });
    await dispatch(roleOnly, api(kube), FAST, FORWARD);
    await dispatch(awsAuthEvent('Update', [ADMIN], [], { PhysicalResourceId, OldResourceProperties: props([ADMIN, MASTERS], 'arn:aws:iam::111122223333:role/Other') }), api(kube), FAST, FORWARD);
    await capturingErrors(() => dispatch(roleOnly, api(kube), FAST, FORWARD));
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN]);
  });

  test('the same event delivered twice in a row is applied idempotently', async () => {
    const ev = awsAuthEvent('Create', [ADMIN, DEV]);
    await dispatch(ev, api(kube), FAST);
    await dispatch(ev, api(kube), FAST);
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN, DEV]);
  });
});

describe('a new stack of the same name is another stack', () => {
  const RETAINED = 'arn:aws:cloudformation:us-east-1:111122223333:stack/A/11111111-aaaa-bbbb-cccc-0000000000aa';

  test('the entry a stack deleted with RETAIN left behind stays: system:masters is not removed by the new stack', async () => {
    // GIVEN: stack A (an earlier stack id) granted ADMIN system:masters, then was deleted with its resources retained
    await dispatch(awsAuthEvent('Create', [ADMIN], [], { StackId: RETAINED }), api(kube), FAST, { stackStatus: async () => 'CREATE_IN_PROGRESS' });

    // WHEN: a new stack A creates its aws-auth resource without ADMIN
    await dispatch(awsAuthEvent('Create', [DEV]), api(kube), FAST, { stackStatus: async () => 'CREATE_IN_PROGRESS' });

    // THEN
    expect(awsAuthOf(kube).mapRoles).toEqual([ADMIN, DEV]);
  });

  test('granting the retained principal again is refused, naming that stack, its record and the fix', async () => {
    await dispatch(awsAuthEvent('Create', [ADMIN], [], { StackId: RETAINED }), api(kube), FAST);
    const key = Object.keys(kube.get(AWS_AUTH_PATH).metadata.annotations).find(k => k.startsWith('owner.cdk-eks-access.io/'));
    await expect(dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST)).rejects.toThrow(
      `${ADMIN.rolearn} is already granted in aws-auth by AwsAuth of stack ${RETAINED}; one principal can have only one aws-auth entry. Grant it in one stack only. If that stack no longer exists (deleted with its resources retained, or its delete could not reach the cluster), its entry stays its own: drop this grant, or remove that entry and that stack's record by hand (kubectl -n kube-system annotate configmap aws-auth ${key}-).`);
  });
});

describe('a namespace deleted by hand', () => {
  const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'cdk-eks-access' } } });
  const rbac = (requestType: Event['RequestType'], objects: object[], old?: object[], physicalId?: string) => event(RBAC_RESOURCE_TYPE, requestType, { Objects: objects }, {
    LogicalResourceId: 'Rbac', ...(physicalId ? { PhysicalResourceId: physicalId } : {}), ...(old ? { OldResourceProperties: { ServiceToken: 'x', ...CONNECTION, Objects: old } } : {}),
  });

  test('fails neither the next update of another grant nor its rollback; the log says what was not written', async () => {
    // GIVEN: a binding in team-a, then team-a deleted by hand (its bindings go with it)
    kube.put('/api/v1/namespaces/team-a', ns('team-a'));
    kube.put('/api/v1/namespaces/team-b', ns('team-b'));
    const a = binding('team-a', 'a-view');
    const b = binding('team-b', 'b-view');
    const { PhysicalResourceId } = await dispatch(rbac('Create', [a]), api(kube), FAST);
    kube.store.delete(`/apis/${RBAC_API}/namespaces/team-a/rolebindings/a-view`);
    kube.store.delete('/api/v1/namespaces/team-a');

    // WHEN: an update grants in team-b, then its rollback
    const log = await capturingErrors(() => dispatch(rbac('Update', [a, b], [a], PhysicalResourceId), api(kube), FAST, { stackStatus: async () => 'UPDATE_IN_PROGRESS' }));
    const bWritten = kube.get(`/apis/${RBAC_API}/namespaces/team-b/rolebindings/b-view`);
    await capturingErrors(() => dispatch(rbac('Update', [a], [a, b], PhysicalResourceId), api(kube), FAST, { stackStatus: async () => 'UPDATE_ROLLBACK_IN_PROGRESS' }));

    // THEN
    expect(bWritten).toBeDefined();
    expect(log).toMatch(/RoleBinding team-a\/a-view was not written: its namespace is gone \((namespaces "team-a" not found|.*because it is being terminated)\)/);
    expect(kube.get(`/apis/${RBAC_API}/namespaces/team-b/rolebindings/b-view`)).toBeUndefined();
  });

  test('a rollback that grants again what the failed update revoked, in a namespace deleted meanwhile, succeeds', async () => {
    kube.put('/api/v1/namespaces/team-a', ns('team-a'));
    const a = binding('team-a', 'a-view');
    const { PhysicalResourceId } = await dispatch(rbac('Create', [a]), api(kube), FAST);
    await dispatch(rbac('Update', [], [a], PhysicalResourceId), api(kube), FAST, { stackStatus: async () => 'UPDATE_IN_PROGRESS' });
    kube.store.delete('/api/v1/namespaces/team-a');
    const log = await capturingErrors(() => dispatch(rbac('Update', [a], [], PhysicalResourceId), api(kube), FAST, { stackStatus: async () => 'UPDATE_ROLLBACK_IN_PROGRESS' }));
    expect(log).toMatch(/RoleBinding team-a\/a-view was not written: its namespace is gone/);
  });

  test('a create into a namespace that does not exist still fails (nothing was ever granted there)', async () => {
    await expect(capturingErrors(() => dispatch(rbac('Create', [binding('absent', 'x')]), api(kube), FAST))).rejects.toThrow(/404/);
  });
});

describe('a refusal fits CloudFormation\'s 4,096-byte response', () => {
  const STACK_NAME = 'S'.repeat(128);
  const STACK_ID = `arn:aws:cloudformation:us-east-1:111122223333:stack/${STACK_NAME}/11111111-aaaa-bbbb-cccc-000000000001`;
  const LOGICAL_ID = 'L'.repeat(255);
  const FUNCTION = 'F'.repeat(64);

  /**
   * The body the provider framework PUTs to CloudFormation for a failed event, built as
   * aws-cdk-lib's custom-resources/lib/provider-framework/runtime does (framework.js: the
   * user function's errorMessage, a blank line, the log group, then the trace; cfn-response.js:
   * the body), with the trace as Lambda's Node.js runtime reports it (the stack's lines).
   */
  function frameworkBody(e: Error, ev: Event): string {
    const message = [e.message, '', `Logs: /aws/lambda/${FUNCTION}`, ''].join('\n');
    const reason = [message, ...(e.stack ?? '').split('\n').slice(1)].join('\n');
    return JSON.stringify({
      Status: 'FAILED',
      Reason: reason,
      StackId: ev.StackId,
      RequestId: ev.RequestId,
      PhysicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED',
      LogicalResourceId: ev.LogicalResourceId,
    });
  }

  test.each([10, 50, 500])('%i principals that aws-auth maps twice: the first three named, the count, the rest in the log', async (n) => {
    // GIVEN: aws-auth mapping each of n roles twice (old eksctl duplicated entries on every run)
    const roles = Array.from({ length: n }, (_, i) => ({ rolearn: `arn:aws:iam::111122223333:role/Team${String(i).padStart(3, '0')}`, username: `team-${i}`, groups: ['system:masters'] }));
    kube.put(AWS_AUTH_PATH, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system' },
      data: { mapRoles: roles.flatMap(r => [r, r]).map(r => `- ${JSON.stringify(r)}`).join('\n') + '\n' },
    });
    const ev = awsAuthEvent('Create', roles.map(r => ({ ...r, groups: ['cdk-eks-access:cluster-view'] })), [], { StackId: STACK_ID, LogicalResourceId: LOGICAL_ID });

    // WHEN
    let thrown: unknown;
    const log = await capturingErrors(() => dispatch(ev, api(kube), FAST).catch(e => { thrown = e; }));
    const error = await capturingErrors(async () => { thrown = handlerFailure(ev, thrown); }).then(() => thrown as Error);

    // THEN
    const body = frameworkBody(error, ev);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096);
    expect(error.message).toMatch(new RegExp(`^${n} problems; the first 3: aws-auth has more than one entry that matches arn:aws:iam::111122223333:role/Team000 `));
    expect(error.message).toMatch(/role\/Team002 .*\(the other \d+ are in this function's log\.\) Nothing was written\./);
    expect(log).toContain(`all ${n} problems:`);
    expect(log).toContain(roles[n - 1].rolearn);
  });

  test('any other message too long for the response is cut, and logged whole', async () => {
    const ev = awsAuthEvent('Create', [], [], { StackId: STACK_ID, LogicalResourceId: LOGICAL_ID });
    let error: Error | undefined;
    const log = await capturingErrors(async () => { error = handlerFailure(ev, new Error(`x${'é'.repeat(5000)}y\nsecond line`)); });
    expect(Buffer.byteLength(frameworkBody(error!, ev))).toBeLessThanOrEqual(4096);
    expect(error!.message).toMatch(/^L+ \(Create\): xé+ \[cut: the whole message is in this function's log\]$/);
    expect(log).toContain('y second line');
  });
});
