import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import { kubeBackend } from './backend';

/**
 * A Kubernetes-API-compatible HTTP(S) server on loopback, for the reconciler tests: the
 * parts of the API the handler uses, with the semantics that matter for safety.
 *
 * - GET/POST/PUT/DELETE of namespaces, ConfigMaps, Roles, RoleBindings, ClusterRoles and
 *   ClusterRoleBindings by their real API paths; 404 NotFound with a Status body.
 * - `metadata.resourceVersion`: a global counter, moved by every write that changes the
 *   object (a PUT of the same content keeps it); a PUT or a DELETE precondition with a
 *   stale version (or, for DELETE, another uid) is 409 Conflict; a POST of an existing object
 *   is 409 AlreadyExists; a PUT of an absent object with a uid is 409, otherwise an RBAC
 *   object is created (create-on-update), anything else 404.
 * - A deleted namespace stays, Terminating (no namespace controller, as with the tests' real
 *   API server); a create in it is 403. A ConfigMap's data over 1 MiB, annotations over
 *   256 KiB: 422. Each of these answers is compared with the real kube-apiserver's in
 *   test/real/api-server.test.ts.
 * - Lists: of one namespace or across namespaces, with equality label selectors; items
 *   without `apiVersion` and `kind`, as the API server answers.
 * - Namespaced objects can only be created in an existing namespace (404 otherwise); a
 *   namespace carries the label `kubernetes.io/metadata.name` with its name, as the API
 *   server sets it.
 * - Every request needs `Authorization: Bearer k8s-aws-v1.<token>` whose token is a
 *   presigned STS GetCallerIdentity URL; anything else is 401.
 * - `hooks.beforeWrite` runs before a write is applied (tests inject a racing writer
 *   there); `latencyMs` delays every answer so concurrent clients interleave.
 * - `faults`: the next requests fail before they are handled, one fault each, in order:
 *   an error status (429 with a Status body carrying `details.retryAfterSeconds`, 503, …)
 *   or a destroyed connection.
 */
export type FakeFault = { readonly status: number; readonly retryAfterSeconds?: number } | { readonly destroy: true };

/** Objects by API path: a Map in the fake; the real server's objects on the real backend. */
export interface KubeStore {
  get(path: string): any;
  set(path: string, obj: any): unknown;
  delete(path: string): boolean;
}

export interface FakeKube {
  readonly endpoint: string;
  /** Objects by API path. */
  readonly store: KubeStore;
  /** Every request, in order. */
  readonly log: Array<{ method: string; path: string; status: number }>;
  hooks: {
    beforeWrite?: (method: string, path: string) => Promise<void> | void;
    /** After a write was applied: true answers 500 instead (the client never learns it landed). */
    failAfterWrite?: (method: string, path: string) => boolean;
  };
  latencyMs: number;
  /** Faults for the next requests (consumed one per request, first first). */
  faults: FakeFault[];
  /** What the test's hooks threw; `close()` throws when there is any (a staged race that failed must fail its test). */
  readonly hookErrors: Error[];
  /** Puts an object directly (as another client would have), assigning a resourceVersion. */
  put(path: string, obj: any): void;
  get(path: string): any;
  /** The names of the namespaces there are, leaving out those being deleted (Terminating: no controller finishes them here). */
  namespaces(): string[];
  writes(): Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

const NAMESPACED = /^\/(?:api\/v1|apis\/rbac\.authorization\.k8s\.io\/v1)\/namespaces\/([^/]+)\/(configmaps|roles|rolebindings)(?:\/([^/]+))?$/;
const CLUSTER = /^\/(?:api\/v1\/(namespaces)|apis\/rbac\.authorization\.k8s\.io\/v1\/(clusterroles|clusterrolebindings))(?:\/([^/]+))?$/;
/** A list of a namespaced kind across all namespaces (GET only). */
const ALL_NAMESPACES = /^\/(api\/v1|apis\/rbac\.authorization\.k8s\.io\/v1)\/(configmaps|roles|rolebindings)$/;

/**
 * The objects a `labelSelector` query selects: equality requirements (`k=v`, `k==v`) joined
 * by commas; any other form is answered 400, so a handler using one is caught here.
 */
function selects(selector: string | null, obj: any): boolean | 'unsupported' {
  if (selector === null) return true;
  for (const req of selector.split(',')) {
    const m = /^([^=!]+)==?([^=!]*)$/.exec(req.trim());
    if (!m) return 'unsupported';
    if (obj.metadata?.labels?.[m[1]] !== m[2]) return false;
  }
  return true;
}

/** A list as the API server answers it: `<Kind>List`, items without `apiVersion` and `kind`. */
function listOf(path: string, items: any[], version: number) {
  const apiVersion = path.startsWith('/api/v1') ? 'v1' : 'rbac.authorization.k8s.io/v1';
  const kind = items[0]?.kind ?? 'List';
  return {
    kind: `${kind}List`,
    apiVersion,
    metadata: { resourceVersion: String(version) },
    items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
  };
}

/**
 * The API server's size limits (kube-apiserver v1.35, checked in test/real/api-server.test.ts):
 * a ConfigMap's data at most 1 MiB, an object's annotations at most 256 KiB (keys and values).
 */
function sizeProblem(obj: any): [number, any] | undefined {
  const bytes = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
  if (obj?.kind === 'ConfigMap' && bytes(obj.data) + bytes(obj.binaryData) > 1_048_576) return [422, status(422, 'Invalid', 'ConfigMap is invalid: []: Too long: may not be more than 1048576 bytes')];
  if (bytes(obj?.metadata?.annotations) > 262_144) return [422, status(422, 'Invalid', 'metadata.annotations: Too long: must have at most 262144 bytes')];
  return undefined;
}

/**
 * An object as the API server stores and answers it (kube-apiserver v1.35, compared in
 * test/real/api-server.test.ts): empty labels, annotations, data and subjects are left out
 * (omitempty), and a Role's or ClusterRole's empty `rules` comes back as null.
 */
function stored(obj: any): any {
  const out = { ...obj, metadata: { ...obj.metadata } };
  const empty = (v: any) => v !== null && typeof v === 'object' && Object.keys(v).length === 0;
  for (const k of ['labels', 'annotations']) if (empty(out.metadata[k])) delete out.metadata[k];
  for (const k of ['data', 'binaryData', 'subjects']) if (empty(out[k])) delete out[k];
  if ((out.kind === 'Role' || out.kind === 'ClusterRole') && empty(out.rules)) out.rules = null;
  return out;
}

/** An object without the fields the server assigns (resourceVersion, uid, creationTimestamp, managedFields). */
export function withoutServerFields(obj: any): any {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _c, managedFields: _m, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata };
}

/** The content of an object a write compares to tell a change from none: all but the server's own fields. */
function content(obj: any): string {
  const sorted = (v: any): any => Array.isArray(v) ? v.map(sorted)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map(k => [k, sorted(v[k])])) : v;
  return JSON.stringify(sorted(withoutServerFields(obj)));
}

/** A Kubernetes `Status` failure body. */
export function kubeStatus(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code };
}
const status = kubeStatus;

/**
 * Answers the next injected fault, if any (shared by the fake and the real backend's proxy):
 * true when the request was answered (or its connection destroyed) and must go no further.
 */
export function answerFault(kube: FakeKube, method: string, path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const fault = kube.faults.shift();
  if (!fault) return false;
  if ('destroy' in fault) {
    kube.log.push({ method, path, status: 0 });
    req.socket.destroy();
    return true;
  }
  const reason = fault.status === 429 ? 'TooManyRequests' : 'InternalError';
  const details = fault.retryAfterSeconds !== undefined ? { details: { retryAfterSeconds: fault.retryAfterSeconds } } : {};
  kube.log.push({ method, path, status: fault.status });
  res.writeHead(fault.status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ ...kubeStatus(fault.status, reason, `injected ${fault.status}`), ...details }));
  return true;
}

/** Checks an EKS token's shape: the presigned STS URL that aws-iam-authenticator accepts. */
export function checkEksToken(header: string | undefined): string | undefined {
  const m = /^Bearer k8s-aws-v1\.([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!m) return 'no bearer token of the form k8s-aws-v1.<base64url>';
  const url = new URL(Buffer.from(m[1], 'base64url').toString('utf8'));
  const q = url.searchParams;
  if (url.protocol !== 'https:' || !/^sts\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname) || url.pathname !== '/') return `not an STS URL: ${url.origin}${url.pathname}`;
  if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return 'not GetCallerIdentity';
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !/^[0-9a-f]{64}$/.test(q.get('X-Amz-Signature') ?? '')) return 'not SigV4-signed';
  if (!(q.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id')) return 'x-k8s-aws-id is not signed';
  if (Number(q.get('X-Amz-Expires')) > 900) return 'expires too late';
  return undefined;
}

let touches = 0;
/**
 * Another client changes the object at `path` (a label of its own), so that its
 * resourceVersion moves: a racing writer. (Writing it back unchanged would move nothing, on
 * the real API server as on the fake.) Returns false when there is no such object.
 */
export function touch(kube: FakeKube, path: string): boolean {
  const o = kube.get(path);
  if (!o) return false;
  kube.put(path, { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, 'example.com/touched': String(++touches) } } });
  return true;
}

/** What a test sets and reads on a cluster of either backend: the request log, hooks, latency and faults. */
export function testControls(log: FakeKube['log']): Pick<FakeKube, 'log' | 'hooks' | 'latencyMs' | 'faults' | 'writes' | 'hookErrors'> {
  return { log, hooks: {}, latencyMs: 0, faults: [], hookErrors: [], writes: () => log.filter(l => l.method !== 'GET') };
}

/**
 * Runs the test's `beforeWrite` hook for a write (for a POST, with the path of the object it
 * creates), on both backends at the same point: before the server looks at the request. A
 * hook that throws is recorded (see `hookErrors`) and the request answered 500.
 */
export async function beforeWrite(kube: FakeKube, method: string, path: string, body: any): Promise<boolean> {
  const name = method === 'POST' ? body?.metadata?.name : undefined;
  try {
    await kube.hooks.beforeWrite?.(method, name !== undefined ? `${path}/${encodeURIComponent(name)}` : path);
    return true;
  } catch (e) {
    kube.hookErrors.push(e as Error);
    return false;
  }
}

/** Throws what the test's hooks threw, once the cluster is closed. */
export function throwHookErrors(kube: FakeKube): void {
  if (kube.hookErrors.length > 0) throw new Error(`a beforeWrite hook of the test threw (its request was answered 500): ${kube.hookErrors.map(e => e.message).join('; ')}`);
}

/**
 * The handler tests' cluster: this fake, or, in a test file that called `useRealApiServer()`
 * (test/handlers/backend.ts), a real kube-apiserver behind a proxy with the same interface
 * (test/handlers/real-kube.ts).
 */
export async function startFakeKube(tls?: { key: string; cert: string }): Promise<FakeKube> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (kubeBackend() === 'real') return (require('./real-kube') as typeof import('./real-kube')).startRealKube(tls);
  const store = new Map<string, any>();
  let version = 100;
  const log: FakeKube['log'] = [];
  // the API server labels every namespace with its own name (kubernetes.io/metadata.name), on create and update
  const nameLabel = (obj: any) => obj.kind === 'Namespace' ? { labels: { ...obj.metadata?.labels, 'kubernetes.io/metadata.name': obj.metadata?.name } } : {};
  const stamp = (obj: any) => stored({ ...obj, metadata: { ...obj.metadata, ...nameLabel(obj), resourceVersion: String(++version), uid: obj.metadata?.uid ?? `uid-${version}` } });
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    store.set(`/api/v1/namespaces/${ns}`, stamp({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
  }

  const fake: FakeKube = {
    endpoint: '',
    store,
    ...testControls(log),
    put: (path, obj) => {
      const now = store.get(path);
      // as on the real server: writing what is there already changes nothing
      if (!now || content(stored({ ...obj, metadata: { ...obj.metadata, ...nameLabel(obj) } })) !== content(now)) store.set(path, stamp(obj));
    },
    get: path => store.get(path),
    namespaces: () => Array.from(store.entries())
      .filter(([p, o]) => /^\/api\/v1\/namespaces\/[^/]+$/.test(p) && !o.metadata?.deletionTimestamp)
      .map(([p]) => decodeURIComponent(p.split('/').pop()!)),
    close: async () => {
      await new Promise<void>(resolve => server.close(() => resolve()));
      throwHookErrors(fake);
    },
  };

  /** A create in a namespace being deleted is forbidden (the NamespaceLifecycle admission plugin). */
  function isTerminating(namespace: string): [number, any] | undefined {
    const obj = store.get(`/api/v1/namespaces/${namespace}`);
    if (!obj?.metadata?.deletionTimestamp) return undefined;
    return [403, status(403, 'Forbidden', `unable to create new content in namespace ${decodeURIComponent(namespace)} because it is being terminated`)];
  }

  async function handle(method: string, path: string, body: any, query: URLSearchParams): Promise<[number, any]> {
    // the racing writer first, before any check, as the real backend's proxy runs it
    if (method !== 'GET' && !await beforeWrite(fake, method, path, body)) return [500, status(500, 'InternalError', 'the test\'s beforeWrite hook threw')];
    const all = ALL_NAMESPACES.exec(path);
    if (all && method !== 'GET') return [405, status(405, 'MethodNotAllowed', `${method} on a list across namespaces`)];
    const selector = query.get('labelSelector');
    const select = (items: any[]): [number, any] => {
      if (selects(selector, {}) === 'unsupported') return [400, status(400, 'BadRequest', `label selector not supported by the fake: ${selector}`)];
      const picked = items.filter(o => selects(selector, o) === true);
      return [200, listOf(path, picked, version)];
    };
    if (all) {
      const collection = `/${all[1]}/namespaces/`;
      return select(Array.from(store.entries()).filter(([k]) => k.startsWith(collection) && k.split('/').slice(-2, -1)[0] === all[2]).map(([, v]) => v));
    }
    const ns = NAMESPACED.exec(path);
    const cl = CLUSTER.exec(path);
    if (!ns && !cl) return [404, status(404, 'NotFound', `no route ${path}`)];
    const name = ns ? ns[3] : cl![3];
    if (method === 'POST') {
      if (name) return [405, status(405, 'MethodNotAllowed', 'POST to an object')];
      const objPath = `${path}/${encodeURIComponent(body?.metadata?.name)}`;
      if (ns && !store.has(`/api/v1/namespaces/${ns[1]}`)) return [404, status(404, 'NotFound', `namespaces "${decodeURIComponent(ns[1])}" not found`)];
      const terminating = ns && isTerminating(ns[1]);
      if (terminating) return terminating;
      const tooBig = sizeProblem(body);
      if (tooBig) return tooBig;
      if (body?.metadata?.namespace !== undefined && ns && body.metadata.namespace !== decodeURIComponent(ns[1])) return [400, status(400, 'BadRequest', 'namespace mismatch')];
      if (store.has(objPath)) return [409, status(409, 'AlreadyExists', `${objPath} already exists`)];
      const { resourceVersion: _rv, ...meta } = body.metadata;
      const created = stamp({ ...body, metadata: { ...meta, ...(ns ? { namespace: decodeURIComponent(ns[1]) } : {}) } });
      store.set(objPath, created);
      return [201, created];
    }
    if (!name && method === 'GET') {
      // a list: the objects directly under the collection
      return select(Array.from(store.entries()).filter(([k]) => k.startsWith(`${path}/`) && !k.slice(path.length + 1).includes('/')).map(([, v]) => v));
    }
    if (!name) return [405, status(405, 'MethodNotAllowed', `${method} on a collection`)];
    const current = store.get(path);
    if (method === 'GET') return current ? [200, current] : [404, status(404, 'NotFound', `${path} not found`)];
    const now = store.get(path);
    if (!now && method === 'PUT') {
      // as kube-apiserver v1.35 answers a PUT of an absent object (test/real/api-server.test.ts):
      // a uid in it is a precondition that fails (409); otherwise (a resourceVersion alone
      // included) kinds whose strategy allows create-on-update (RBAC's) are created, others are 404
      if (body?.metadata?.uid !== undefined) {
        return [409, status(409, 'Conflict', `Operation cannot be fulfilled on ${path}: Precondition failed: UID in precondition: ${body.metadata.uid}, UID in object meta: `)];
      }
      if (cl?.[2] || (ns && ns[2] !== 'configmaps')) {
        const terminating = ns && isTerminating(ns[1]);
        if (terminating) return terminating;
        const created = stamp({ ...body, metadata: { ...body.metadata, ...(ns ? { namespace: decodeURIComponent(ns[1]) } : {}) } });
        store.set(path, created);
        return [201, created];
      }
    }
    if (!now) return [404, status(404, 'NotFound', `${path} not found`)];
    if (method === 'PUT') {
      const rv = body?.metadata?.resourceVersion;
      if (rv !== undefined && rv !== now.metadata.resourceVersion) {
        return [409, status(409, 'Conflict', `Operation cannot be fulfilled on ${path}: the object has been modified; please apply your changes to the latest version and try again`)];
      }
      if (body?.metadata?.name !== now.metadata.name) return [400, status(400, 'BadRequest', 'name mismatch')];
      const tooBig = sizeProblem(body);
      if (tooBig) return tooBig;
      const ref = (r: any) => JSON.stringify(r, Object.keys(r ?? {}).sort()); // compared as values, as the API server does
      if (now.roleRef && ref(now.roleRef) !== ref(body.roleRef)) return [422, status(422, 'Invalid', 'roleRef: cannot change roleRef')];
      const next = { ...body, metadata: { ...body.metadata, ...nameLabel(body), uid: now.metadata.uid } };
      // an update that changes nothing is no write: the object keeps its resourceVersion
      if (content(stored(next)) === content(now)) return [200, now];
      const updated = stamp(next);
      store.set(path, updated);
      return [200, updated];
    }
    if (method === 'DELETE') {
      const rv = body?.preconditions?.resourceVersion;
      const uid = body?.preconditions?.uid;
      if ((rv !== undefined && rv !== now.metadata.resourceVersion) || (uid !== undefined && uid !== now.metadata.uid)) {
        return [409, status(409, 'Conflict', 'precondition failed')];
      }
      if (cl?.[1] === 'namespaces') {
        // no namespace controller (as in the tests' real API server): a deleted namespace stays Terminating
        const terminating = stamp({ ...now, metadata: { ...now.metadata, deletionTimestamp: now.metadata.deletionTimestamp ?? new Date().toISOString() }, status: { phase: 'Terminating' } });
        store.set(path, terminating);
        return [200, terminating];
      }
      store.delete(path);
      return [200, { kind: 'Status', apiVersion: 'v1', status: 'Success' }];
    }
    return [405, status(405, 'MethodNotAllowed', method)];
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? 'GET';
      const [path, search] = (req.url ?? '/').split('?');
      const query = new URLSearchParams(search ?? '');
      if (answerFault(fake, method, path, req, res)) return;
      let result: [number, any];
      try {
        const authError = checkEksToken(req.headers.authorization);
        if (authError) result = [401, status(401, 'Unauthorized', authError)];
        else result = await handle(method, path, text ? JSON.parse(text) : undefined, query);
      } catch (e) {
        result = [500, status(500, 'InternalError', String(e))];
      }
      if (method !== 'GET' && result[0] < 300 && fake.hooks.failAfterWrite?.(method, path)) result = [500, status(500, 'InternalError', 'injected after the write')];
      if (fake.latencyMs) await new Promise(r => setTimeout(r, Math.random() * fake.latencyMs));
      log.push({ method, path, status: result[0] });
      res.writeHead(result[0], { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(result[1]));
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
  (fake as any).endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
