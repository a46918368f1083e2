import { createHash } from 'crypto';
import { FailSafeError, Owner, isPredecessor } from './aws-auth';
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

/**
 * The owner annotation of a resource: one per stack and logical id (not per physical id),
 * so a create that is retried after a lost answer, or a resource that moves to another
 * cluster and back, is one owner, and cannot leave a second claim behind that keeps a
 * revoked object alive.
 */
export function ownerKey(owner: Owner): string {
  return OWNER_ANNOTATION_PREFIX + createHash('sha256').update(`${owner.stack}\n${owner.logicalId}`).digest('hex').slice(0, 40);
}

/** What an owner annotation holds. */
interface OwnerValue {
  readonly stack: string;
  readonly logicalId: string;
  /**
   * The object was there, with the library's label and no owner, before this stack first
   * applied it (the library's first release applied objects without owners): a rollback or
   * a cleanup never deletes it, and puts back this content if the stack changed it.
   */
  readonly takenOver?: boolean;
  /** The content (everything but metadata and status) before this stack changed it, as canonical JSON. */
  readonly original?: string;
  /**
   * The content another owner (a sibling chunk the object moves from, or a stale owner)
   * had given the object when this owner first wrote over it, as canonical JSON: put back
   * when this owner lets go while that owner still holds the object (the rollback of a
   * move between chunks deletes the new chunk; the old one, never updated, keeps its claim
   * and must get its content back). `by`: the owner annotations that held it then; once
   * none of them is left, it is dropped.
   */
  readonly replaced?: { readonly content: string; readonly by: string[] };
}

function ownerValue(owner: Owner, extra: Partial<OwnerValue> = {}): string {
  return JSON.stringify({ stack: owner.stack, logicalId: owner.logicalId, ...extra });
}

function readOwner(value: string | undefined): Partial<OwnerValue> | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return {};
  }
}

/**
 * This owner's annotations on an object: the current key, any earlier key (the first
 * release keyed owners by physical id), and those of an earlier stack of the same name (a
 * deleted stack, e.g. a failed first create: see `isPredecessor`).
 */
function myAnnotationKeys(owner: Owner, annotations: Record<string, string>): string[] {
  return Object.entries(annotations)
    .filter(([k, v]) => {
      if (!k.startsWith(OWNER_ANNOTATION_PREFIX)) return false;
      if (k === ownerKey(owner)) return true;
      const o = readOwner(v);
      return (o?.stack === owner.stack && o?.logicalId === owner.logicalId) || isPredecessor(owner.stack, String(o?.stack ?? ''));
    })
    .map(([k]) => k);
}

/** `replaced`, while an owner that held the object then still holds it. */
function stillHeld(replaced: OwnerValue['replaced'], others: string[]): OwnerValue['replaced'] {
  return replaced?.by?.some(k => others.includes(k)) ? replaced : undefined;
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
    const liveAnnotations: Record<string, string> = live.metadata.annotations ?? {};
    const mineKeys = myAnnotationKeys(owner, liveAnnotations);
    const mineBefore = mineKeys.map(k => readOwner(liveAnnotations[k])).find(v => v !== undefined);
    const owners = Object.keys(liveAnnotations).filter(k => k.startsWith(OWNER_ANNOTATION_PREFIX));
    // labelled, and nobody's: applied by the library's first release for this stack; or
    // moving from another resource (chunk) of this stack that took it over: still taken over
    const sibling = owners.map(k => readOwner(liveAnnotations[k])).find(o => o?.stack === owner.stack && o.takenOver);
    const takenOver = mineBefore?.takenOver ?? (owners.length === 0 || sibling !== undefined);
    const original = mineBefore?.original ?? sibling?.original ?? (takenOver && content(live) !== content(obj) ? content(live) : undefined);
    const others = owners.filter(k => !mineKeys.includes(k));
    const replaced = mineBefore !== undefined ? stillHeld(mineBefore.replaced, others)
      : others.length > 0 && content(live) !== content(obj) ? { content: content(live), by: others } : undefined;
    const value = ownerValue(owner, {
      ...(takenOver ? { takenOver } : {}), ...(original !== undefined ? { original } : {}), ...(replaced !== undefined ? { replaced } : {}),
    });
    const annotations: Record<string, string> = { ...liveAnnotations };
    for (const k of mineKeys) delete annotations[k];
    annotations[ownerKey(owner)] = value;
    const sameAnnotations = mineKeys.length === 1 && liveAnnotations[ownerKey(owner)] === value;
    const sameLabels = Object.entries(labels).every(([k, v]) => live.metadata.labels?.[k] === v);
    if (sameAnnotations && sameLabels && content(live) === content(obj)) return;
    const metadata = { ...live.metadata, labels: { ...(live.metadata.labels ?? {}), ...labels }, annotations };
    await writeOver(api, obj, live, { ...obj, metadata });
  });
}

/**
 * Writes `body` over `live` (read with its resourceVersion): a PUT, or, for a binding
 * whose roleRef changes (immutable in Kubernetes), a delete and a create (with a
 * precondition, so a racing writer retries).
 */
async function writeOver(api: KubeApi, obj: KubeObject, live: KubeObject, body: KubeObject): Promise<void> {
  const path = objectPath(obj);
  if (live.roleRef && canonicalJson(live.roleRef) !== canonicalJson(body.roleRef)) {
    const del = await api.request('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: live.metadata.resourceVersion } });
    if (del.status === 409 || del.status === 404) throw new Retry('changed while replacing');
    if (del.status < 200 || del.status >= 300) throw new KubeError(del.status, 'DELETE', path, del.body);
    const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, managedFields: _mf, ...fresh } = body.metadata;
    const res = await api.request('POST', collectionPath(obj), { ...body, metadata: fresh });
    if (res.status === 409) throw new Retry('created concurrently');
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'POST', collectionPath(obj), res.body);
    return;
  }
  const res = await api.request('PUT', path, body);
  if (res.status === 409) throw new Retry('updated concurrently');
  if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'PUT', path, res.body);
}

/**
 * Gives up `owner`'s claim on an object: removes its annotation, and deletes the object
 * when no other owner is left. Objects without `owner`'s annotation (someone else's, or
 * already handed to another owner) are not touched.
 */
export async function releaseObject(api: KubeApi, owner: Owner, obj: KubeObject, retry: RetryOptions = {}, removeTakenOver = true): Promise<void> {
  const path = objectPath(obj);
  await withRetries(describe(obj), retry, async () => {
    const got = await api.request('GET', path);
    if (got.status === 404) return;
    if (got.status !== 200) throw new KubeError(got.status, 'GET', path, got.body);
    const live = got.body as KubeObject;
    const annotations: Record<string, string> = { ...(live.metadata.annotations ?? {}) };
    const mineKeys = myAnnotationKeys(owner, annotations);
    if (!isOurs(live) || mineKeys.length === 0) return;
    const mine = readOwner(annotations[mineKeys[0]]) ?? {};
    for (const k of mineKeys) delete annotations[k];
    const others = Object.keys(annotations).filter(k => k.startsWith(OWNER_ANNOTATION_PREFIX));
    // taken over from the first release: only a new version or a real stack delete removes it
    const keep = others.length > 0 || (mine.takenOver === true && !removeTakenOver);
    if (keep) {
      let body: KubeObject = { ...live, metadata: { ...live.metadata, annotations } };
      // what this owner wrote goes back to what it replaced, unless someone wrote since
      const before = others.length === 0 ? mine.original : stillHeld(mine.replaced, others)?.content;
      if (before !== undefined && content(live) === content(obj)) body = { ...JSON.parse(before), metadata: body.metadata };
      await writeOver(api, obj, live, body);
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
  options: {
    retry?: RetryOptions;
    concurrency?: number;
    create?: boolean;
    /** Whether objects taken over from the first release go when released (a new version, a real stack delete). @default true */
    removeTakenOver?: boolean;
  } = {},
): Promise<void> {
  const limit = options.concurrency ?? 8;
  try {
    await forEachLimited(desired, limit, obj => applyObject(api, owner, obj, options.retry));
  } catch (e) {
    if (options.create) {
      // best effort: the provider framework never sends a Delete for a failed Create
      await forEachLimited(desired, limit, obj => releaseObject(api, owner, obj, options.retry, false))
        .catch(cleanup => console.error(`cleanup after the failed create left objects behind: ${(cleanup as Error).message}`));
    }
    throw e;
  }
  const keep = new Set(desired.map(identity));
  const released = previous.filter(o => !keep.has(identity(o)));
  await forEachLimited(released, limit, obj => releaseObject(api, owner, obj, options.retry, options.removeTakenOver ?? true));
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
