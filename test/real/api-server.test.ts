import { describeReal, realKubeApi } from './components';
import { KubeApi } from '../../src/handlers/access-reconciler/kube';
import { api as fakeApi } from '../handlers/events';
import { FakeKube, startFakeKube } from '../handlers/fake-kube';

/**
 * The loopback fake (test/handlers/fake-kube.ts) against the real kube-apiserver: the same
 * requests, the same answers (status and reason) for everything the reconciler relies on.
 * The fake is a convenience for fault injection; where it answered differently, it was
 * corrected to answer as the real server does.
 */
type Step = [method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown | ((last: any) => unknown)];

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const binding = (ns: string, name: string, role: string, extra: object = {}) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace: ns, ...extra },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'g' }],
});
const configMap = (ns: string, name: string, data: Record<string, string>, extra: object = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...extra }, data });
const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
/** The object's metadata as the last answer gave it. */
const withMeta = (obj: any, meta: (m: any) => object) => (last: any) => ({ ...obj, metadata: { ...obj.metadata, ...meta(last.metadata) } });

let counter = 0;
const SCENARIOS: Array<[string, (ns: string) => Step[]]> = [
  ['a namespaced create in a namespace that does not exist', ns => [['POST', `/api/v1/namespaces/${ns}-absent/configmaps`, configMap(`${ns}-absent`, 'c', {})]]],
  ['a create of an object that exists', ns => [
    ['POST', '/api/v1/namespaces', namespace(ns)],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'c', { a: '1' })],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'c', { a: '2' })],
  ]],
  ['an update with a stale resourceVersion', ns => [
    ['POST', '/api/v1/namespaces', namespace(ns)],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'c', { a: '1' })],
    ['PUT', `/api/v1/namespaces/${ns}/configmaps/c`, withMeta(configMap(ns, 'c', { a: '2' }), m => ({ resourceVersion: m.resourceVersion }))],
    ['PUT', `/api/v1/namespaces/${ns}/configmaps/c`, configMap(ns, 'c', { a: '3' }, { resourceVersion: '1' })],
  ]],
  ['a PUT of an absent ConfigMap, and of an absent RoleBinding (with and without a resourceVersion)', ns => [
    ['POST', '/api/v1/namespaces', namespace(ns)],
    ['PUT', `/api/v1/namespaces/${ns}/configmaps/c`, configMap(ns, 'c', {})],
    ['PUT', `${RBAC}/namespaces/${ns}/rolebindings/b`, binding(ns, 'b', 'view', { resourceVersion: '12345' })],
    ['PUT', `${RBAC}/namespaces/${ns}/rolebindings/b`, binding(ns, 'b', 'view')],
    ['PUT', `${RBAC}/namespaces/${ns}/rolebindings/u`, binding(ns, 'u', 'view', { uid: '00000000-0000-0000-0000-000000000000' })],
    ['PUT', `${RBAC}/namespaces/${ns}/rolebindings/u`, binding(ns, 'u', 'view', { uid: '00000000-0000-0000-0000-000000000001' })],
    ['DELETE', `${RBAC}/namespaces/${ns}/rolebindings/u`],
    ['PUT', `${RBAC}/namespaces/${ns}/rolebindings/u`, binding(ns, 'u', 'view', { uid: '00000000-0000-0000-0000-000000000000', resourceVersion: '5' })],
  ]],
  ['a roleRef change', ns => [
    ['POST', '/api/v1/namespaces', namespace(ns)],
    ['POST', `${RBAC}/namespaces/${ns}/rolebindings`, binding(ns, 'b', 'view')],
    ['PUT', `${RBAC}/namespaces/${ns}/rolebindings/b`, withMeta(binding(ns, 'b', 'edit'), m => ({ resourceVersion: m.resourceVersion }))],
  ]],
  ['deletes with preconditions (resourceVersion, uid)', ns => [
    ['POST', '/api/v1/namespaces', namespace(ns)],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'c', {})],
    ['DELETE', `/api/v1/namespaces/${ns}/configmaps/c`, { preconditions: { resourceVersion: '1' } }],
    ['DELETE', `/api/v1/namespaces/${ns}/configmaps/c`, { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } }],
    ['GET', `/api/v1/namespaces/${ns}/configmaps/c`],
    ['DELETE', `/api/v1/namespaces/${ns}/configmaps/c`, (last: any) => ({ preconditions: { uid: last.metadata.uid, resourceVersion: last.metadata.resourceVersion } })],
    ['DELETE', `/api/v1/namespaces/${ns}/configmaps/c`],
  ]],
  ['a namespace being deleted: it stays (Terminating) and takes no new objects', ns => [
    ['POST', '/api/v1/namespaces', namespace(ns)],
    ['DELETE', `/api/v1/namespaces/${ns}`],
    ['GET', `/api/v1/namespaces/${ns}`],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'c', {})],
    ['POST', `${RBAC}/namespaces/${ns}/rolebindings`, binding(ns, 'b', 'view')],
  ]],
  ['a ConfigMap over 1 MiB of data, and annotations over 256 KiB', ns => [
    ['POST', '/api/v1/namespaces', namespace(ns)],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'big', { a: 'x'.repeat(1_048_577) })],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'near', { a: 'x'.repeat(1_048_000) })],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'notes', {}, { annotations: { a: 'x'.repeat(262_145) } })],
    ['POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'notes2', {}, { annotations: { a: 'x'.repeat(262_000) } })],
  ]],
  ['a list by label across namespaces: items without apiVersion and kind', ns => [
    ['POST', '/api/v1/namespaces', namespace(ns)],
    ['POST', `${RBAC}/namespaces/${ns}/rolebindings`, binding(ns, 'b', 'view', { labels: { probe: ns } })],
    ['GET', `${RBAC}/rolebindings?labelSelector=probe%3D${ns}`],
  ]],
];

/** What the reconciler reads of an answer: status, reason, and the shape of what came back. */
function summary(status: number, body: any): string {
  const shape = body?.kind === 'Status' ? body.reason : body?.items ? `${body.kind} of ${body.items.length} (${body.items.map((i: any) => `${i.apiVersion ?? '-'}/${i.kind ?? '-'}`).join(',')})`
    : body?.metadata?.deletionTimestamp || body?.status?.phase === 'Terminating' ? 'terminating' : body?.kind ?? '';
  return `${status} ${shape}`;
}

async function run(api: KubeApi, steps: Step[]): Promise<string[]> {
  const out: string[] = [];
  let last: any;
  for (const [method, path, body] of steps) {
    const res = await api.request(method, path, typeof body === 'function' ? (body as (l: any) => unknown)(last) : body);
    if (res.status < 300 && res.body?.metadata) last = res.body;
    out.push(`${method} ${path.replace(/reconcile-[0-9a-z-]+?(-absent)?(?=\/|$|%|\?)/, 'NS$1')}: ${summary(res.status, res.body)}`);
  }
  return out;
}

describeReal('the loopback fake answers as the real kube-apiserver v1.35.4', () => {
  let fake: FakeKube;
  beforeEach(async () => {
    fake = await startFakeKube();
  });
  afterEach(async () => {
    await fake.close();
  });

  test.each(SCENARIOS)('%s', async (_name, steps) => {
    const ns = `reconcile-${process.pid}-${++counter}`;
    const real = await run(realKubeApi(), steps(ns));
    expect(await run(fakeApi(fake), steps(ns))).toEqual(real);
  });

  test('empty labels, annotations, data and subjects are left out; a PUT that changes nothing keeps the resourceVersion; a namespace is labelled with its name', async () => {
    const ns = `reconcile-${process.pid}-${++counter}`;
    const project = async (api: KubeApi): Promise<unknown[]> => {
      const out: unknown[] = [];
      const shape = (o: any) => ({
        metadata: Object.keys(o.metadata).filter(k => ['labels', 'annotations'].includes(k)).map(k => `${k}=${JSON.stringify(o.metadata[k])}`),
        body: ['data', 'subjects', 'rules'].filter(k => k in o).map(k => `${k}=${JSON.stringify(o[k])}`),
      });
      const created = await api.request('POST', '/api/v1/namespaces', { ...namespace(ns), metadata: { name: ns, labels: {}, annotations: {} } });
      out.push(shape(created.body));
      const cm = await api.request('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'c', {}, { labels: {}, annotations: {} }));
      out.push(shape(cm.body));
      const rb = await api.request('POST', `${RBAC}/namespaces/${ns}/rolebindings`, { ...binding(ns, 'b', 'view'), subjects: [] });
      out.push(shape(rb.body));
      const role = await api.request('POST', `${RBAC}/namespaces/${ns}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: ns }, rules: [] });
      out.push(shape(role.body));
      // the same content again, with its resourceVersion: nothing changes
      const same = await api.request('PUT', `/api/v1/namespaces/${ns}/configmaps/c`, cm.body);
      out.push([same.status, same.body.metadata.resourceVersion === cm.body.metadata.resourceVersion ? 'same resourceVersion' : 'new resourceVersion']);
      const changed = await api.request('PUT', `/api/v1/namespaces/${ns}/configmaps/c`, { ...same.body, data: { a: '1' } });
      out.push([changed.status, changed.body.metadata.resourceVersion === cm.body.metadata.resourceVersion ? 'same resourceVersion' : 'new resourceVersion']);
      const relabelled = await api.request('PUT', `/api/v1/namespaces/${ns}`, { ...created.body, metadata: { ...created.body.metadata, labels: { a: 'b' } } });
      out.push(shape(relabelled.body));
      return out;
    };
    const real = await project(realKubeApi());
    expect(await project(fakeApi(fake))).toEqual(real);
  });
});
