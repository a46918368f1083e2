import { ADMIN, DEV, FAST, NODE, api, awsAuthEvent, awsAuthOf, event } from './events';
import { FakeKube, startFakeKube, touch } from './fake-kube';
import { AWS_AUTH_PATH } from '../../src/handlers/access-reconciler/aws-auth';
import { dispatch } from '../../src/handlers/access-reconciler/index';
import { NAMESPACES_RESOURCE_TYPE, RBAC_RESOURCE_TYPE } from '../../src/handlers/access-reconciler/protocol';

/**
 * The reconciler meets the answers only an API server's own rules give: a PUT of an object
 * deleted meanwhile, a delete whose precondition fails, a namespace being deleted, objects
 * at the size limits. On the fake here; on the real kube-apiserver through
 * test/handlers/on-real-api-server/api-server-answers.test.ts (the fake's answers are
 * compared with the real server's in test/real/api-server.test.ts).
 */

const NS = 'answers';
const MANAGED = { 'app.kubernetes.io/managed-by': 'cdk-eks-access' };
const binding = (name: string, group: string, role = 'edit') => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace: NS, labels: MANAGED },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
});
const EDIT = binding('cdk-eks-access:answers:edit', 'cdk-eks-access:answers:edit');
const VIEW = binding('cdk-eks-access:answers:view', 'cdk-eks-access:answers:view', 'view');
const pathOf = (name: string) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/${encodeURIComponent(name)}`;

let kube: FakeKube;
beforeEach(async () => {
  kube = await startFakeKube();
  await dispatch(event(NAMESPACES_RESOURCE_TYPE, 'Create', { Namespaces: [NS] }, { LogicalResourceId: 'Namespaces' }), api(kube), FAST);
});
afterEach(async () => {
  await kube.close();
});

describe('the reconciler against an API server\'s own answers', () => {
  test('a binding deleted by someone between the reconciler\'s read and its write is written again, as declared', async () => {
    // GIVEN the stack's binding, with other subjects written over it by hand
    const created = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
    const live = kube.get(pathOf(EDIT.metadata.name));
    kube.put(pathOf(EDIT.metadata.name), { ...live, subjects: [{ ...live.subjects[0], name: 'by-hand' }] });
    // WHEN the next update's write finds it deleted (a PUT of an absent object)
    let deleted = false;
    kube.hooks.beforeWrite = (method, path) => {
      if (method === 'PUT' && path === pathOf(EDIT.metadata.name) && !deleted) {
        deleted = true;
        kube.store.delete(path);
      }
    };
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [EDIT, VIEW] }, {
      LogicalResourceId: 'Rbac', PhysicalResourceId: created.PhysicalResourceId, OldResourceProperties: { ClusterName: 'c', Objects: [EDIT] },
    }), api(kube), FAST);
    kube.hooks.beforeWrite = undefined;
    // THEN the stack's bindings are there, as declared: the reconciler's PUT carried the uid it read,
    // so the server refused the PUT of the absent object (409; without a uid an RBAC kind would have
    // been created by it), and the reconciler read again and created it; on both backends
    expect(deleted).toBe(true);
    const collection = `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`;
    expect(kube.writes().slice(2).map(w => `${w.method} ${w.path === collection ? 'rolebindings' : w.path === pathOf(EDIT.metadata.name) ? 'edit' : w.path} ${w.status}`))
      .toEqual(['PUT edit 409', 'POST rolebindings 201', 'POST rolebindings 201']);
    expect(kube.get(pathOf(EDIT.metadata.name)).subjects).toEqual(EDIT.subjects);
    expect(kube.get(pathOf(VIEW.metadata.name)).roleRef.name).toBe('view');
  });

  test('a revoke whose delete precondition fails (someone changed the binding) reads it again and still revokes', async () => {
    const created = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT, VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
    let changed = 0;
    kube.hooks.beforeWrite = (method, path) => {
      if (method === 'DELETE' && path === pathOf(EDIT.metadata.name) && changed++ === 0) touch(kube, path);
    };
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [VIEW] }, {
      LogicalResourceId: 'Rbac', PhysicalResourceId: created.PhysicalResourceId, OldResourceProperties: { ClusterName: 'c', Objects: [EDIT, VIEW] },
    }), api(kube), FAST);
    kube.hooks.beforeWrite = undefined;
    expect(kube.log.some(l => l.method === 'DELETE' && l.status === 409)).toBe(true);
    expect(kube.get(pathOf(EDIT.metadata.name))).toBeUndefined();
    expect(kube.get(pathOf(VIEW.metadata.name))).toBeDefined();
  });

  test('a grant a forward update adds into a namespace being deleted fails naming it, and leaves the namespace and the other grants as they were', async () => {
    const created = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
    // deleted by hand (kubectl delete namespace): Terminating, and no namespace controller finishes it
    expect((await api(kube).request('DELETE', `/api/v1/namespaces/${NS}`)).status).toBe(200);
    await expect(dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [VIEW, EDIT] }, {
      LogicalResourceId: 'Rbac', PhysicalResourceId: created.PhysicalResourceId, OldResourceProperties: { ClusterName: 'c', Objects: [VIEW] },
    }), api(kube), FAST, { stackStatus: async () => 'UPDATE_IN_PROGRESS' })).rejects.toThrow(/answers.*(being terminated|Terminating)|(being terminated|Terminating).*answers/);
    expect(kube.get(`/api/v1/namespaces/${NS}`).metadata.deletionTimestamp).toBeDefined();
    expect(kube.get(pathOf(EDIT.metadata.name))).toBeUndefined();
    expect(kube.get(pathOf(VIEW.metadata.name)).subjects).toEqual(VIEW.subjects);
  });

  test('an aws-auth the grant would take over 1 MiB (422) fails the event with the server\'s reason, and aws-auth stays as it was', async () => {
    // GIVEN aws-auth 100 bytes below the limit (keys and values count): the node role, and a foreign key
    const mapRoles = `- rolearn: ${NODE.rolearn}\n  username: ${NODE.username}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n`;
    const notes = 'x'.repeat(1_048_576 - 100 - 'mapRoles'.length - mapRoles.length - 'notes'.length);
    kube.put(AWS_AUTH_PATH, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles, notes } });
    const before = kube.get(AWS_AUTH_PATH);
    await expect(dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST)).rejects.toThrow(/422|Too long|too long/);
    const after = kube.get(AWS_AUTH_PATH);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(awsAuthOf(kube).mapRoles).toEqual([NODE]);
  });

  test('annotations the reconciler\'s record would take over 256 KiB: its own check refuses before the server would answer 422, and aws-auth stays as it was', async () => {
    kube.put(AWS_AUTH_PATH, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system', annotations: { 'example.com/notes': 'x'.repeat(262_000) } },
      data: { mapRoles: `- rolearn: ${NODE.rolearn}\n  username: ${NODE.username}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n` },
    });
    const before = kube.get(AWS_AUTH_PATH);
    await expect(dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST)).rejects.toThrow(/annotations would take 262\d{3} bytes, over Kubernetes' 262144.*nothing was written/);
    expect(kube.writes().filter(w => w.path.endsWith('/aws-auth'))).toEqual([]);
    expect(kube.get(AWS_AUTH_PATH).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(awsAuthOf(kube).mapRoles).toEqual([NODE]);
  });
});
