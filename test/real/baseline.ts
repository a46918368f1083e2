import { HttpKubeApi, KubeApi } from '../../src/handlers/access-reconciler/kube';
import { withoutServerFields } from '../handlers/fake-kube';

/**
 * A worker's API server as it was when it started, and the way back to it between tests
 * (test/handlers/real-kube.ts): every object of the kinds the reconciler and the tests write
 * that was not there is deleted; every one that changed is put back; a namespace left
 * Terminating (no namespace controller runs) is emptied and finalized, as the namespace
 * controller's last step does, so that the next test may use its name again.
 */

/** The collections reset, by API path prefix: the kinds the reconciler and the handler tests write. */
const NAMESPACED = [
  ['/api/v1', 'configmaps'],
  ['/apis/rbac.authorization.k8s.io/v1', 'roles'],
  ['/apis/rbac.authorization.k8s.io/v1', 'rolebindings'],
  ['/api/v1', 'serviceaccounts'],
  ['/api/v1', 'secrets'],
] as const;
const CLUSTER = [
  ['/apis/rbac.authorization.k8s.io/v1', 'clusterroles'],
  ['/apis/rbac.authorization.k8s.io/v1', 'clusterrolebindings'],
] as const;
/** Every collection reset, namespaces first. */
const RESET_COLLECTIONS: ReadonlyArray<readonly [string, string]> = [['/api/v1', 'namespaces'], ...NAMESPACED, ...CLUSTER];
/** Whether a write to `path` is to a kind the reset covers (a namespace, its finalize included, or one of the collections above). */
export function isReset(path: string): boolean {
  if (/^\/api\/v1\/namespaces(\/[^/]+(\/finalize)?)?$/.test(path)) return true;
  return RESET_COLLECTIONS.some(([prefix, collection]) =>
    new RegExp(`^${prefix.replace(/\./g, '\\.')}(/namespaces/[^/]+)?/${collection}(/[^/]+)?$`).test(path));
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Objects by the API path the fake uses for them (`/api/v1/namespaces/<ns>`, `<prefix>/namespaces/<ns>/<collection>/<name>`, …). */
export type Objects = Record<string, any>;

export function pathOf(prefix: string, collection: string, obj: any): string {
  const name = encodeURIComponent(obj.metadata.name);
  if (collection === 'namespaces') return `/api/v1/namespaces/${name}`;
  const ns = obj.metadata.namespace;
  return ns ? `${prefix}/namespaces/${encodeURIComponent(ns)}/${collection}/${name}` : `${prefix}/${collection}/${name}`;
}

async function must(api: KubeApi, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: any, ok: number[] = []): Promise<any> {
  const res = await api.request(method, path, body);
  if (res.status >= 300 && !ok.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
}

/** Every object of the reset kinds, namespaces included, by path. */
export async function listAll(api: KubeApi): Promise<Objects> {
  const out: Objects = {};
  await Promise.all(RESET_COLLECTIONS.map(async ([prefix, collection]) => {
    const list = await must(api, 'GET', `${prefix}/${collection}`);
    for (const item of list.items) out[pathOf(prefix, collection, item)] = item;
  }));
  return out;
}

function clientOf(server: { url: string; token: string; ca: string }): KubeApi {
  return new HttpKubeApi({ endpoint: server.url, token: server.token, certificateAuthority: server.ca });
}

/** Waits for the system namespaces, then returns what the server holds. */
export async function recordBaseline(server: { url: string; token: string; ca: string }): Promise<Objects> {
  const api = clientOf(server);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const all = await listAll(api);
    if (SYSTEM_NAMESPACES.every(n => all[`/api/v1/namespaces/${n}`])) return all;
    if (Date.now() > deadline) throw new Error(`the system namespaces did not appear: ${Object.keys(all).filter(p => p.split('/').length === 5).join(', ')}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

/** Strips what the server assigns, for a write back. */
export const writable = withoutServerFields;

/** Where `now` differs from `baseline`: paths it holds that the baseline does not, and baseline objects missing or changed. */
function differences(now: Objects, baseline: Objects): { extra: string[]; changed: string[] } {
  const same = (a: any, b: any) => a.metadata.resourceVersion === b.metadata.resourceVersion
    || JSON.stringify(writable(a)) === JSON.stringify(writable(b));
  return {
    extra: Object.keys(now).filter(p => !baseline[p]),
    changed: Object.keys(baseline).filter(p => !now[p] || !same(now[p], baseline[p])),
  };
}

/**
 * Puts the server back to `baseline`, then lists it again and throws naming what is still
 * different (a reset that cannot be done must fail the test, not leak into the next one).
 * Returns how many objects it deleted or restored.
 */
export async function resetToBaseline(server: { url: string; token: string; ca: string }, baseline: Objects): Promise<number> {
  const api = clientOf(server);
  const now = await listAll(api);
  const isNamespace = (p: string) => /^\/api\/v1\/namespaces\/[^/]+$/.test(p);
  const { extra, changed } = differences(now, baseline);
  // objects first (a namespace is finalized only once it is empty), then namespaces
  await Promise.all(extra.filter(p => !isNamespace(p)).map(async p => {
    // an object's own finalizers (no controller here would ever remove them) go first
    if ((now[p].metadata.finalizers ?? []).length > 0) await must(api, 'PUT', p, { ...writable(now[p]), metadata: { ...writable(now[p]).metadata, finalizers: [] } }, [404]);
    await must(api, 'DELETE', p, undefined, [404]);
  }));
  for (const p of extra.filter(isNamespace)) {
    if (!now[p].metadata.deletionTimestamp) await must(api, 'DELETE', p, undefined, [404]);
    // the namespace controller's last step: empty spec.finalizers, after which the API server removes it
    await must(api, 'PUT', `${p}/finalize`, { ...writable(now[p]), spec: { finalizers: [] } }, [404]);
    await must(api, 'DELETE', p, undefined, [404]);
  }
  for (const p of changed) {
    const was = baseline[p];
    if (now[p]) {
      if (isNamespace(p) && now[p].metadata.deletionTimestamp) throw new Error(`a test deleted the system namespace ${p}: the worker's API server cannot be reset`);
      await must(api, 'PUT', p, writable(was));
    } else {
      await must(api, 'POST', p.slice(0, p.lastIndexOf('/')), writable(was));
    }
  }
  const count = extra.length + changed.length;
  if (count > 0) {
    const left = differences(await listAll(api), baseline);
    if (left.extra.length + left.changed.length > 0) {
      throw new Error(`the worker's API server could not be reset: still there ${JSON.stringify(left.extra)}, still changed ${JSON.stringify(left.changed)}`);
    }
  }
  return count;
}
