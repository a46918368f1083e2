import { FailSafeError, Owner } from './aws-auth';
import { KubeApi, KubeError, Retry, RetryOptions, collectionPath, objectPath, withRetries } from './kube';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_ANNOTATION_PREFIX } from './protocol';
import { refusalMessage } from './refusal';
import { canonicalJson, sha256Hex } from '../../private/hash';

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
  return OWNER_ANNOTATION_PREFIX + sha256Hex(`${owner.stack}\n${owner.logicalId}`).slice(0, 40);
}

/** What an owner annotation holds. */
interface OwnerValue {
  readonly stack: string;
  readonly logicalId: string;
  /**
   * The object the claim was written on (`identity`): a copy of the annotation on another
   * object (a clone made with `kubectl get -o yaml`, renamed and created) claims nothing.
   * Absent on claims written before it existed (taken as the object's).
   */
  readonly id?: string;
  /**
   * The physical id of the resource that wrote the claim: a stack refactoring renames the
   * logical id without an event, and the physical id stays. Absent on claims written before
   * it existed.
   */
  readonly physicalId?: string;
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
  /**
   * A digest of the content this owner wrote: tells a sweep (which does not know the
   * owner's properties) whether the object still holds what the owner wrote, so it may
   * put back `original` or `replaced`. Absent on claims written before it existed.
   */
  readonly wrote?: string;
  /**
   * When this owner first claimed the object (milliseconds since the epoch, the handler's
   * clock): a claim of a logical id CloudFormation does not list is released only once it
   * is older than `GONE_CLAIM_MIN_AGE_MS`. Absent on claims written before it existed
   * (old enough).
   */
  readonly at?: number;
}

/**
 * How old a claim of a logical id that CloudFormation does not list must be before it is
 * released: longer than the reconciler function may run (its timeout is 10 minutes,
 * src/private/reconciler-provider.ts), so no invocation that wrote it can still be running,
 * and a resource whose create has just started cannot be mistaken for a gone one if the
 * listing were late to show it (CloudFormation does not document how soon it does).
 */
export const GONE_CLAIM_MIN_AGE_MS = 15 * 60 * 1000;

/** The digest of a content (`OwnerValue.wrote`). */
function digest(c: string): string {
  return sha256Hex(c).slice(0, 16);
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
 * This owner's annotations on an object: the current key, and any earlier key (the first
 * release keyed owners by physical id). A stack of the same name with another stack id is
 * another stack: its claims are its own.
 */
function myAnnotationKeys(owner: Owner, annotations: Record<string, string>): string[] {
  return Object.entries(annotations)
    .filter(([k, v]) => {
      if (!k.startsWith(OWNER_ANNOTATION_PREFIX)) return false;
      if (k === ownerKey(owner)) return true;
      const o = readOwner(v);
      // the same resource under a logical id that a stack refactoring renamed: its physical id
      return o?.stack === owner.stack && (o?.logicalId === owner.logicalId || (typeof o?.physicalId === 'string' && o.physicalId === owner.id));
    })
    .map(([k]) => k);
}

/**
 * `live` without the owner annotations that were written on another object (their `id`
 * names another kind, namespace or name): a clone carries them, and they claim nothing on
 * it, so no release or sweep of the stack ever touches the clone. `live` needs its
 * `apiVersion` and `kind`.
 */
export function withoutCopiedClaims(live: KubeObject): KubeObject {
  const annotations: Record<string, string> | undefined = live?.metadata?.annotations;
  if (!annotations) return live;
  const id = identity(live);
  const kept = Object.entries(annotations).filter(([k, v]) => {
    if (!k.startsWith(OWNER_ANNOTATION_PREFIX)) return true;
    const claimed = readOwner(v)?.id;
    return claimed === undefined || claimed === id;
  });
  if (kept.length === Object.keys(annotations).length) return live;
  return { ...live, metadata: { ...live.metadata, annotations: Object.fromEntries(kept) } };
}

/** `replaced`, while an owner that held the object then still holds it. */
function stillHeld(replaced: OwnerValue['replaced'], others: string[]): OwnerValue['replaced'] {
  return replaced?.by?.some(k => others.includes(k)) ? replaced : undefined;
}

/** A resource of the stack, as CloudFormation's `ListStackResources` names it. */
export interface StackResource {
  readonly logicalId: string;
  readonly type: string;
  readonly status: string;
  /** @default - not listed (a resource whose create has not answered yet) */
  readonly physicalId?: string;
}

/**
 * The stack's logical ids, as CloudFormation lists them, for telling a claim of an owner
 * that CloudFormation no longer has (a create whose answer was lost and whose own cleanup
 * could not reach the cluster: it was rolled back, and no Delete reached the handler) from
 * a live one.
 *
 * A listing is used only for claims read before it started: a resource is listed from the
 * moment CloudFormation starts creating it (`CREATE_IN_PROGRESS`), before its handler can
 * write a claim, so a claim seen on an object read earlier belongs to a resource that a
 * listing started later shows, in whatever status, until CloudFormation has deleted it.
 * The write that follows carries the object's `resourceVersion`, so a claim added after
 * the read makes it re-read (and list again).
 */
export class StackListing {
  private clock = 0;
  private last: { readonly at: number; readonly ids: Promise<Set<string> | undefined> } | undefined;

  /**
   * @param list the stack's resources; undefined (or a rejection) when they cannot be read
   * @param now the handler's clock, for the age of a claim (`OwnerValue.at`)
   */
  constructor(
    private readonly list?: () => Promise<ReadonlyArray<StackResource> | undefined>,
    public readonly now: () => number = Date.now,
  ) {}

  /** A moment: listings started after it show every resource whose claim was readable before it. */
  public mark(): number {
    return ++this.clock;
  }

  /** The logical ids of a listing started after `mark`; undefined when the stack's resources cannot be read. */
  public async since(mark: number): Promise<Set<string> | undefined> {
    if (!this.list) return undefined;
    if (this.last === undefined || this.last.at <= mark) {
      const at = ++this.clock;
      const ids = this.list().then(
        // logical and physical ids: a logical id renamed by a stack refactoring (no event reaches
        // the handler) keeps its physical id, which the claims written since it existed name
        rs => (rs && rs.every(r => typeof r.logicalId === 'string' && r.logicalId !== '')
          ? new Set(rs.flatMap(r => [r.logicalId, ...(r.physicalId ? [`physical:${r.physicalId}`] : [])])) : undefined),
        e => {
          console.error(`the stack's resources are unknown: ${(e as Error).message}`);
          return undefined;
        });
      this.last = { at, ids };
    }
    return this.last.ids;
  }
}

/**
 * The annotations of `annotations` that claim an object for another logical id of `owner`'s
 * stack that CloudFormation positively does not list (in any status): owners it will never
 * update or delete. Only claims older than `GONE_CLAIM_MIN_AGE_MS`; nothing when the
 * listing is unknown.
 */
async function goneClaims(
  owner: Owner, annotations: Record<string, string>, keys: string[], listing: StackListing | undefined, seen: number,
): Promise<string[]> {
  if (listing === undefined) return [];
  const now = listing.now();
  const sameStack = keys.filter(k => {
    const o = readOwner(annotations[k]);
    const old = typeof o?.at !== 'number' || now - o.at >= GONE_CLAIM_MIN_AGE_MS;
    return old && o?.stack === owner.stack && typeof o.logicalId === 'string' && o.logicalId !== '' && o.logicalId !== owner.logicalId;
  });
  if (sameStack.length === 0) return [];
  const listed = await listing.since(seen);
  if (listed === undefined) return [];
  return sameStack.filter(k => {
    const o = readOwner(annotations[k])!;
    return !listed.has(o.logicalId!) && !(typeof o.physicalId === 'string' && listed.has(`physical:${o.physicalId}`));
  });
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
export async function applyObject(
  api: KubeApi, owner: Owner, obj: KubeObject, retry: RetryOptions = {}, now: () => number = Date.now, fresh = false, mustWrite = fresh,
): Promise<void> {
  const path = objectPath(obj);
  await withRetries(describe(obj), retry, async () => {
    const got = await api.request('GET', path);
    const labels = { ...(obj.metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
    if (got.status === 404) {
      const claim = ownerValue(owner, { id: identity(obj), physicalId: owner.id, wrote: digest(content(obj)), at: now() });
      const annotations = { [ownerKey(owner)]: claim };
      const body = { ...obj, metadata: { ...obj.metadata, labels, annotations } };
      const res = await api.request('POST', collectionPath(obj), body);
      if (res.status === 409) throw new Retry('created concurrently');
      if (!mustWrite && namespaceIsGone(res, obj)) {
        // an object the stack had before, in a namespace deleted by hand since: an update of
        // another grant (and its rollback) must not fail over it; nothing is granted there,
        // which is the safe side
        console.error(`${describe(obj)} was not written: its namespace is gone (${messageOf(res.body)}). The grants in that namespace have no effect until it exists again and the stack is deployed.`);
        return;
      }
      if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'POST', collectionPath(obj), res.body);
      return;
    }
    if (got.status !== 200) throw new KubeError(got.status, 'GET', path, got.body);
    const live = withoutCopiedClaims({ ...got.body, apiVersion: obj.apiVersion, kind: obj.kind } as KubeObject);
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
      id: identity(obj),
      physicalId: owner.id,
      ...(takenOver ? { takenOver } : {}),
      ...(original !== undefined ? { original } : {}),
      ...(replaced !== undefined ? { replaced } : {}),
      wrote: digest(content(obj)),
      // when this instance first claimed it: kept across updates (an unchanged object is not
      // rewritten); new on a create (`fresh`: a claim left by an earlier instance of this
      // logical id, or by an earlier stack, must not make the new one look old)
      ...(mineBefore === undefined || fresh || mineKeys.some(k => k !== ownerKey(owner)) ? { at: now() }
        : typeof mineBefore.at === 'number' ? { at: mineBefore.at } : {}),
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

function messageOf(body: unknown): string {
  return String((body as { message?: unknown } | undefined)?.message ?? '');
}

/**
 * Whether the API server refused to create `obj` because its namespace does not exist
 * (404 `namespaces "<name>" not found`) or is being deleted (403 `… because it is being
 * terminated`), as kube-apiserver answers (the NamespaceLifecycle admission plugin).
 */
function namespaceIsGone(res: { status: number; body: unknown }, obj: KubeObject): boolean {
  const ns = obj.metadata?.namespace;
  if (!ns) return false;
  const message = messageOf(res.body);
  return (res.status === 404 && message === `namespaces "${ns}" not found`)
    || (res.status === 403 && message.endsWith(`unable to create new content in namespace ${ns} because it is being terminated`));
}

/**
 * Writes `body` over `live` (read with its resourceVersion): a PUT, or, for a binding
 * whose roleRef changes (immutable in Kubernetes), a delete and a create (with a
 * precondition, so a racing writer retries).
 */
async function writeOver(api: KubeApi, obj: KubeObject, live: KubeObject, body: KubeObject): Promise<KubeObject | undefined> {
  const path = objectPath(obj);
  if (live.roleRef && canonicalJson(live.roleRef) !== canonicalJson(body.roleRef)) {
    const del = await api.request('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: live.metadata.resourceVersion } });
    if (del.status === 409 || del.status === 404) throw new Retry('changed while replacing');
    if (del.status < 200 || del.status >= 300) throw new KubeError(del.status, 'DELETE', path, del.body);
    const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, managedFields: _mf, ...fresh } = body.metadata;
    const res = await api.request('POST', collectionPath(obj), { ...body, metadata: fresh });
    if (res.status === 409) throw new Retry('created concurrently');
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'POST', collectionPath(obj), res.body);
    return written(res.body, obj);
  }
  const res = await api.request('PUT', path, body);
  if (res.status === 409) throw new Retry('updated concurrently');
  // deleted since it was read (another chunk's sweep of a stale claim, someone else): read again
  if (res.status === 404) throw new Retry('deleted concurrently');
  if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'PUT', path, res.body);
  return written(res.body, obj);
}

/** The object a write answered with (with `obj`'s apiVersion and kind), or undefined when the answer holds none. */
function written(body: unknown, obj: KubeObject): KubeObject | undefined {
  const o = body as KubeObject | undefined;
  return typeof o?.metadata?.resourceVersion === 'string' ? { ...o, apiVersion: obj.apiVersion, kind: obj.kind } : undefined;
}

/**
 * Gives up `owner`'s claim on an object: removes its annotation, and deletes the object
 * when no other owner is left. Objects without `owner`'s annotation (someone else's, or
 * already handed to another owner) are not touched. Claims of the stack's logical ids that
 * CloudFormation no longer lists (`goneClaims`) go with it.
 */
export async function releaseObject(
  api: KubeApi, owner: Owner, obj: KubeObject, retry: RetryOptions = {}, removeTakenOver = true, listing?: StackListing,
): Promise<void> {
  let started = false;
  await releaseClaims(api, obj, undefined, 0, retry, listing, async (live, seen) => {
    const annotations: Record<string, string> = live.metadata?.annotations ?? {};
    const mineKeys = myAnnotationKeys(owner, annotations);
    // a claim of this stack under a logical id CloudFormation no longer lists is an owner it
    // will never delete: it must not keep what this owner revokes (README, "The reconciler")
    const claims = Object.keys(annotations).filter(k => k.startsWith(OWNER_ANNOTATION_PREFIX) && !mineKeys.includes(k));
    const gone = await goneClaims(owner, annotations, claims, listing, seen);
    if (!started && mineKeys.length === 0) {
      // nothing of this owner's on it when first read: someone else's, handed over already, or
      // released by an earlier attempt of this very event (a retry after the connection went
      // down): the stack's gone owners still go, as the sweep (which skips this object) would
      return gone.map(key => ({ key, removeTakenOver: false }));
    }
    started = true;
    return [
      ...mineKeys.map(key => ({ key, removeTakenOver, wroteContent: content(obj) })),
      ...gone.map(key => ({ key, removeTakenOver: false })),
    ];
  });
}

/** A claim to release: its annotation, whether a taken-over object goes with it, and (for claims without `wrote`) the content it wrote. */
interface Release {
  readonly key: string;
  readonly removeTakenOver: boolean;
  readonly wroteContent?: string;
}

/**
 * Releases the claims `pick` names on one object, one claim per write, each decided on the
 * object as last read (first `listed`, when given, as of `listedMark`; else a GET): the
 * claim that wrote what the object holds now goes first, so what each replaced goes back
 * in order. A write that conflicts, or finds the object gone, reads it again and decides
 * again (`withRetries`). `pick` sees the object and the moment it was read.
 */
async function releaseClaims(
  api: KubeApi, obj: KubeObject, listed: KubeObject | undefined, listedMark: number, retry: RetryOptions, listing: StackListing | undefined,
  pick: (live: KubeObject, seen: number) => Promise<Release[]>,
): Promise<void> {
  const path = objectPath(obj);
  let live: KubeObject | undefined = listed;
  let seen = listedMark;
  // claims already judged against a listing that started after `seen`: a re-read that shows
  // no other claims keeps that moment, so one listing serves the whole object
  let judged = new Set<string>(Object.keys(listed?.metadata?.annotations ?? {}));
  // once a claim that takes a taken-over object with it is released (a revocation, a real
  // stack delete), the object goes when its last claim does, whichever claim that is
  let removeTakenOver = false;
  await withRetries(describe(obj), retry, async () => {
    for (;;) {
      if (live === undefined) {
        const got = await api.request('GET', path);
        if (got.status === 404) return;
        if (got.status !== 200) throw new KubeError(got.status, 'GET', path, got.body);
        const read: KubeObject = withoutCopiedClaims({ ...got.body, apiVersion: obj.apiVersion, kind: obj.kind });
        live = read;
        const keys = Object.keys(read.metadata?.annotations ?? {});
        if (!keys.every(k => judged.has(k))) seen = listing?.mark() ?? 0;
        judged = new Set(keys);
      }
      const current: KubeObject = live!;
      if (!isOurs(current)) return;
      const releases = await pick(current, seen);
      if (releases.length === 0) return;
      const annotations: Record<string, string> = { ...current.metadata.annotations };
      const now = digest(content(current));
      const wroteOf = (x: Release) => readOwner(annotations[x.key])?.wrote ?? (x.wroteContent !== undefined ? digest(x.wroteContent) : undefined);
      const [r] = [...releases].sort((a, b) => Number(wroteOf(b) === now) - Number(wroteOf(a) === now));
      const mine = readOwner(annotations[r.key]) ?? {};
      const wrote = wroteOf(r);
      delete annotations[r.key];
      // an owner that replaced what this one wrote now replaced what this one replaced
      for (const k of Object.keys(annotations).filter(x => x.startsWith(OWNER_ANNOTATION_PREFIX))) {
        const other = readOwner(annotations[k]);
        if (wrote === undefined || other?.replaced === undefined || digest(other.replaced.content) !== wrote) continue;
        const { replaced: _r, ...rest } = other;
        annotations[k] = JSON.stringify(mine.replaced !== undefined ? { ...rest, replaced: mine.replaced } : rest);
      }
      live = undefined; // on a conflict, the object is read again before another decision
      const alsoGoing = new Set(releases.map(x => x.key).filter(k => k !== r.key));
      removeTakenOver ||= releases.some(x => x.removeTakenOver);
      const after = await letGo(api, current, annotations, mine, removeTakenOver, wrote !== undefined && wrote === now, alsoGoing);
      console.log(`${describe(current)}: released the claim of ${mine.logicalId ?? r.key}`);
      if (after === 'deleted') return;
      // the object as written (the write's answer): its claims are the ones judged already
      live = after;
    }
  });
}

/**
 * Writes `live` without the claims already removed from `annotations` (a copy): deleted
 * when no claim is left, unless it was taken over (`mine.takenOver`) and `removeTakenOver`
 * is false; else kept, and put back to what the released owner replaced when it still
 * holds what that owner wrote (`unchanged`) and no owner that stays (other than those in
 * `alsoGoing`, released next) wrote what it holds. Conditional on `live`'s
 * resourceVersion: a concurrent change throws `Retry`.
 */
async function letGo(
  api: KubeApi, live: KubeObject, annotations: Record<string, string>, mine: Partial<OwnerValue>, removeTakenOver: boolean, unchanged: boolean,
  alsoGoing: ReadonlySet<string> = new Set(),
): Promise<KubeObject | 'deleted' | undefined> {
  const path = objectPath(live);
  const others = Object.keys(annotations).filter(k => k.startsWith(OWNER_ANNOTATION_PREFIX));
  // taken over from the first release: only a new version or a real stack delete removes it
  const keep = others.length > 0 || (mine.takenOver === true && !removeTakenOver);
  if (keep) {
    let body: KubeObject = { ...live, metadata: { ...live.metadata, annotations } };
    // what this owner wrote goes back to what it replaced, unless someone wrote since, or
    // an owner that stays has written this very content (it declares it now)
    const now = digest(content(live));
    const wantedByOthers = others.some(k => !alsoGoing.has(k) && readOwner(annotations[k])?.wrote === now);
    const staying = others.filter(k => !alsoGoing.has(k));
    const before = others.length === 0 ? mine.original : stillHeld(mine.replaced, staying)?.content;
    if (before !== undefined && unchanged && !wantedByOthers) body = { ...JSON.parse(before), metadata: body.metadata };
    return writeOver(api, live, live, body);
  }
  const res = await api.request('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: live.metadata.resourceVersion } });
  if (res.status === 404) return 'deleted';
  if (res.status === 409) throw new Retry('updated concurrently');
  if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, 'DELETE', path, res.body);
  return 'deleted';
}

/** How long a sweep may start new objects (wall time), and its tries per object: see the time budget in kube.ts. */
const SWEEP_BUDGET_MS = 30_000;
const SWEEP_ATTEMPTS = 3;

/** The API version of the kinds an RBAC resource holds. */
const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';
/** The kinds an RBAC resource holds (see `objectPath`), by their collection names. */
const RBAC_KINDS: ReadonlyArray<readonly [kind: string, collection: string]> = [
  ['Role', 'roles'], ['RoleBinding', 'rolebindings'], ['ClusterRole', 'clusterroles'], ['ClusterRoleBinding', 'clusterrolebindings'],
];

/** Whether `obj` is of a kind an RBAC resource holds: Role, RoleBinding, ClusterRole or ClusterRoleBinding of rbac.authorization.k8s.io/v1. */
export function isRbacObject(obj: KubeObject): boolean {
  return obj?.apiVersion === RBAC_API_VERSION && RBAC_KINDS.some(([kind]) => kind === obj.kind);
}

/**
 * The objects of an RBAC resource's properties. `desired` (a Create's or an Update's new
 * objects): any other kind (a ConfigMap named aws-auth, a Namespace) is refused before
 * anything is written. Otherwise (what an earlier version of the properties held): other
 * kinds are left out, and logged, so that they are never deleted.
 */
export function rbacObjectsOf(objects: unknown, desired: boolean): KubeObject[] {
  const all = Array.isArray(objects) ? objects as KubeObject[] : [];
  const foreign = all.filter(o => !isRbacObject(o));
  if (foreign.length === 0) return all;
  const named = foreign.map(o => `${o?.apiVersion} ${describe(o ?? {})}`);
  if (desired) {
    throw new FailSafeError(refusalMessage(named.map(n => `${n} is not an RBAC object.`),
      'An RBAC resource writes only Role, RoleBinding, ClusterRole and ClusterRoleBinding of rbac.authorization.k8s.io/v1. Nothing was written. Remove the other objects from Objects.'));
  }
  console.error(`left alone (not an RBAC object, so never deleted): ${named.join(', ')}`);
  return all.filter(isRbacObject);
}

/**
 * Every object of the RBAC kinds that carries the library's managed-by label, cluster-wide
 * (one LIST per kind with a label selector, from the API server's watch cache:
 * `resourceVersion=0` may answer an older state, which is safe here because every write
 * that follows is conditional on the version it read). A list's items carry no
 * `apiVersion` and `kind` in Kubernetes: they are set here from the list asked for.
 */
async function listLabelled(api: KubeApi): Promise<KubeObject[]> {
  const selector = encodeURIComponent(`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`);
  const out: KubeObject[] = [];
  for (const [kind, collection] of RBAC_KINDS) {
    const path = `/apis/${RBAC_API_VERSION}/${collection}?labelSelector=${selector}&resourceVersion=0`;
    const res = await api.request('GET', path);
    if (res.status !== 200) throw new KubeError(res.status, 'GET', path, res.body);
    for (const item of (res.body as { items?: KubeObject[] })?.items ?? []) {
      out.push(withoutCopiedClaims({ ...item, apiVersion: RBAC_API_VERSION, kind }));
    }
  }
  return out;
}

/** What a sweep may release on one object. */
interface SweepScope {
  /** The event's own claim counts as stale (the object is outside its properties). */
  readonly own: boolean;
  readonly removeTakenOver: boolean;
  readonly listing?: StackListing;
}

/**
 * The stale claims on `live`: `owner`'s own (exactly its stack and logical id; never an
 * earlier stack's of the same name) when `scope.own`, and claims of the stack's logical ids
 * CloudFormation does not list.
 */
async function staleClaims(owner: Owner, live: KubeObject, scope: SweepScope, seen: number): Promise<Release[]> {
  const annotations: Record<string, string> = live.metadata?.annotations ?? {};
  const claims = Object.keys(annotations).filter(k => k.startsWith(OWNER_ANNOTATION_PREFIX));
  const isOwn = (k: string) => {
    const o = readOwner(annotations[k]);
    return k === ownerKey(owner) || (o?.stack === owner.stack && o?.logicalId === owner.logicalId);
  };
  const own = scope.own ? claims.filter(isOwn) : [];
  const gone = await goneClaims(owner, annotations, claims.filter(k => !isOwn(k)), scope.listing, seen);
  return [...own.map(key => ({ key, removeTakenOver: scope.removeTakenOver })), ...gone.map(key => ({ key, removeTakenOver: false }))];
}

/** Releases the stale claims of one listed object (`releaseClaims`); errors are logged, never thrown. */
async function sweepObject(
  api: KubeApi, owner: Owner, listed: KubeObject, listedMark: number, scope: SweepScope, retry: RetryOptions,
): Promise<void> {
  try {
    await releaseClaims(api, listed, listed, listedMark, retry, scope.listing, (live, seen) => staleClaims(owner, live, scope, seen));
  } catch (e) {
    console.error(`${describe(listed)}: stale claims stay for a later event (${(e as Error).message})`);
  }
}

/**
 * Releases the claims no event of CloudFormation will ever release, on the library's
 * objects (all of the RBAC kinds with its label, listed cluster-wide):
 * - claims of this stack under a logical id CloudFormation does not list (needs `listing`)
 *   and older than `GONE_CLAIM_MIN_AGE_MS`, on any object but those `released` (the event
 *   released them, and such claims with them);
 * - `owner`'s own claim (exactly this stack and logical id) on an object outside `applied`
 *   and `released`: left by an earlier instance of this logical id that CloudFormation never
 *   had (a create whose answer was lost and whose own cleanup could not reach the cluster),
 *   since the instance CloudFormation has applies, updates and deletes exactly its
 *   properties, one event at a time.
 * A released claim is undone as its owner's failed create would have done (objects taken
 * over stay, what the owner replaced goes back when the object still holds what it wrote
 * and no remaining owner wrote that), except that `owner`'s own claims follow
 * `removeTakenOver`. Claims of other stacks, and of an earlier stack of the same name, are
 * never released here. Best effort: errors are logged, never thrown (a sweep must not fail
 * a deploy, a rollback or a delete over someone else's leftovers).
 */
export async function sweepStaleClaims(
  api: KubeApi, owner: Owner, applied: ReadonlySet<string>, released: ReadonlySet<string>,
  options: { readonly removeTakenOver: boolean; readonly listing?: StackListing; readonly retry?: RetryOptions },
): Promise<void> {
  let objects: KubeObject[];
  try {
    objects = await listLabelled(api);
  } catch (e) {
    console.error(`the sweep for stale claims could not list the library's objects: ${(e as Error).message}`);
    return;
  }
  // one moment after the list for every listed object, so that one listing of the stack serves them all
  const listedMark = options.listing?.mark() ?? 0;
  const started = Date.now();
  // a few tries per object: a claim left by a conflict is the next event's
  const retry = { ...options.retry, attempts: Math.min(options.retry?.attempts ?? SWEEP_ATTEMPTS, SWEEP_ATTEMPTS) };
  for (const [i, listed] of objects.entries()) {
    if (Date.now() - started > SWEEP_BUDGET_MS) {
      console.error(`the sweep for stale claims stopped after ${SWEEP_BUDGET_MS / 1000} s; ${objects.length - i} objects are left for a later event`);
      return;
    }
    const id = identity(listed);
    if (released.has(id)) continue;
    const scope = { own: !applied.has(id), removeTakenOver: options.removeTakenOver, listing: options.listing };
    await sweepObject(api, owner, listed, listedMark, scope, retry);
  }
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
    /** Whether the event is a rollback's update (undefined: unknown, taken as one). */
    rollback?: boolean;
    /** Whether objects taken over from the first release go when released (a new version, a real stack delete). @default true */
    removeTakenOver?: boolean;
    /** The stack's resources, to release claims of logical ids the stack no longer has. @default - unknown: such claims keep their objects */
    listing?: StackListing;
    /**
     * Afterwards, release stale claims on the objects not visited (`sweepStaleClaims`);
     * `removeTakenOver` applies to the owner's own stale claims.
     * @default - no sweep
     */
    sweep?: { readonly removeTakenOver: boolean };
    /** The handler's clock, for the time a claim is first written (`OwnerValue.at`). @default Date.now */
    now?: () => number;
  } = {},
): Promise<void> {
  const limit = options.concurrency ?? 8;
  try {
    const before = new Set(previous.map(identity));
    // a grant this event adds must be written (a create, a forward update); what the stack
    // had before may meet a namespace deleted since (see `applyObject`)
    const mustWrite = (obj: KubeObject) => options.create === true || (options.rollback === false && !before.has(identity(obj)));
    // a rollback's update never fails over an object someone else holds now (a tenant
    // removed the library's label): it is left as it is, and logged
    const lenient = !options.create && options.rollback === true;
    await forEachLimited(desired, limit, obj => applyObject(api, owner, obj, options.retry, options.now, options.create, mustWrite(obj)).catch(e => {
      if (!(lenient && e instanceof FailSafeError)) throw e;
      console.error(`not rolled back: ${e.message}`);
    }));
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
  await forEachLimited(released, limit, obj => releaseObject(api, owner, obj, options.retry, options.removeTakenOver ?? true, options.listing));
  if (options.sweep) {
    const releasedIds = new Set(released.map(identity));
    const { listing, retry } = options;
    await sweepStaleClaims(api, owner, keep, releasedIds, { removeTakenOver: options.sweep.removeTakenOver, listing, retry });
  }
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
