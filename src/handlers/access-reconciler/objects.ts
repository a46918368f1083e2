import { FailSafeError, Owner } from './aws-auth';
import { KubeApi, KubeError, Retry, RetryOptions, collectionPath, objectPath, withRetries } from './kube';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_ANNOTATION_PREFIX } from './protocol';
import { canonicalJson } from '../../private/hash';

type KubeObject = Record<string, any>;

function describe(obj: KubeObject): string {
  return `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
}

/** The identity of an object: kind, namespace, name. */
export function identity(obj: KubeObject): string {
  return `${obj.apiVersion}/${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
}

function isOurs(live: KubeObject): boolean {
  return live.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

function ownerKey(owner: Owner): string {
  return OWNER_ANNOTATION_PREFIX + owner.id;
}

function ownerValue(owner: Owner): string {
  return JSON.stringify({ stack: owner.stack, logicalId: owner.logicalId });
}

/** Everything of an object but its metadata and status: what the reconciler compares and writes. */
function content(obj: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = obj;
  return canonicalJson(rest);
}

/**
 * Creates or updates one object and records `owner` on it (an annotation; other owners'
 * annotations stay). An existing object without the library's managed-by label belongs
 * to someone else: refused, nothing written. A binding whose roleRef changed (immutable
 * in Kubernetes) is deleted and created again.
 */
export async function applyObject(api: KubeApi, owner: Owner, obj: KubeObject, retry: RetryOptions = {}): Promise<void> {
  const path = objectPath(obj);
  await withRetries(describe(obj), retry, async () => {
    const got = await api.request('GET', path);
    const labels = { ...(obj.metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
    if (got.status === 404) {
      const body = { ...obj, metadata: { ...obj.metadata, labels, annotations: { [ownerKey(owner)]: ownerValue(owner) } } };
      const res = await api.request('POST', collectionPath(obj), body);
      if (res.status === 409) throw new Retry('created concurrently');
      if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'POST', collectionPath(obj), res.body);
      return;
    }
    if (got.status !== 200) throw new KubeError(got.status, 'GET', path, got.body);
    const live = got.body as KubeObject;
    if (!isOurs(live)) {
      throw new FailSafeError(`${describe(obj)} already exists and was not created by cdk-eks-access (no ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE} label); it was left alone and nothing else was written to it. Delete or rename it, or drop the grant that generates it.`);
    }
    const annotations = { ...(live.metadata.annotations ?? {}), [ownerKey(owner)]: ownerValue(owner) };
    const sameAnnotations = live.metadata.annotations?.[ownerKey(owner)] === ownerValue(owner);
    const sameLabels = Object.entries(labels).every(([k, v]) => live.metadata.labels?.[k] === v);
    if (sameAnnotations && sameLabels && content(live) === content(obj)) return;
    const metadata = { ...live.metadata, labels: { ...(live.metadata.labels ?? {}), ...labels }, annotations };
    if (live.roleRef && canonicalJson(live.roleRef) !== canonicalJson(obj.roleRef)) {
      // roleRef cannot change: replace the binding (with a precondition, so a racing writer retries)
      const del = await api.request('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: live.metadata.resourceVersion } });
      if (del.status === 409 || del.status === 404) throw new Retry('changed while replacing');
      if (del.status < 200 || del.status >= 300) throw new KubeError(del.status, 'DELETE', path, del.body);
      const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, managedFields: _mf, ...fresh } = metadata;
      const res = await api.request('POST', collectionPath(obj), { ...obj, metadata: fresh });
      if (res.status === 409) throw new Retry('created concurrently');
      if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'POST', collectionPath(obj), res.body);
      return;
    }
    const res = await api.request('PUT', path, { ...obj, metadata });
    if (res.status === 409) throw new Retry('updated concurrently');
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'PUT', path, res.body);
  });
}

/**
 * Gives up `owner`'s claim on an object: removes its annotation, and deletes the object
 * when no other owner is left. Objects without `owner`'s annotation (someone else's, or
 * already handed to another owner) are not touched.
 */
export async function releaseObject(api: KubeApi, owner: Owner, obj: KubeObject, retry: RetryOptions = {}): Promise<void> {
  const path = objectPath(obj);
  await withRetries(describe(obj), retry, async () => {
    const got = await api.request('GET', path);
    if (got.status === 404) return;
    if (got.status !== 200) throw new KubeError(got.status, 'GET', path, got.body);
    const live = got.body as KubeObject;
    const annotations: Record<string, string> = { ...(live.metadata.annotations ?? {}) };
    if (!isOurs(live) || annotations[ownerKey(owner)] === undefined) return;
    delete annotations[ownerKey(owner)];
    const others = Object.keys(annotations).filter(k => k.startsWith(OWNER_ANNOTATION_PREFIX));
    if (others.length > 0) {
      const res = await api.request('PUT', path, { ...live, metadata: { ...live.metadata, annotations } });
      if (res.status === 409) throw new Retry('updated concurrently');
      if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'PUT', path, res.body);
      return;
    }
    const res = await api.request('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: live.metadata.resourceVersion } });
    if (res.status === 404) return;
    if (res.status === 409) throw new Retry('updated concurrently');
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'DELETE', path, res.body);
  });
}

/** Runs `fn` over `items` with at most `limit` at a time; the first error wins (after the rest settle). */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/**
 * Applies `desired` and releases the objects of `previous` that `desired` no longer has.
 * On a failed create, releases what it applied, so a failed deploy leaves no orphans.
 */
export async function reconcileObjects(
  api: KubeApi, owner: Owner, desired: KubeObject[], previous: KubeObject[],
  options: { retry?: RetryOptions; concurrency?: number; create?: boolean } = {},
): Promise<void> {
  const limit = options.concurrency ?? 8;
  try {
    await forEachLimited(desired, limit, obj => applyObject(api, owner, obj, options.retry));
  } catch (e) {
    if (options.create) {
      // best effort: the provider framework never sends a Delete for a failed Create
      await forEachLimited(desired, limit, obj => releaseObject(api, owner, obj, options.retry))
        .catch(cleanup => console.error(`cleanup after the failed create left objects behind: ${(cleanup as Error).message}`));
    }
    throw e;
  }
  const keep = new Set(desired.map(identity));
  await forEachLimited(previous.filter(o => !keep.has(identity(o))), limit, obj => releaseObject(api, owner, obj, options.retry));
}

/** Creates the namespaces that are absent (labelled as the library's); never changes or deletes one. */
export async function ensureNamespaces(api: KubeApi, namespaces: string[], retry: RetryOptions = {}): Promise<void> {
  await forEachLimited(namespaces, 8, ns => withRetries(`Namespace ${ns}`, retry, async () => {
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}`;
    const got = await api.request('GET', path);
    if (got.status === 200) return;
    if (got.status !== 404) throw new KubeError(got.status, 'GET', path, got.body);
    const res = await api.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
    });
    if (res.status === 409) return; // created meanwhile: fine
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'POST', '/api/v1/namespaces', res.body);
  }));
}
