import { editSection, itemJson, itemSource } from './aws-auth-edit';
import { ARN_KEY, ParsedSection, SECTIONS, Section, SectionItem, itemMatches, readSection, sectionProblem } from './aws-auth-read';
import { KubeApi, KubeError, Retry, RetryOptions, withRetries } from './kube';
import { AwsAuthEntry, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_ANNOTATION_PREFIX } from './protocol';
import { refusalMessage } from './refusal';
import { sha256Hex } from '../../private/hash';

export const AWS_AUTH_PATH = '/api/v1/namespaces/kube-system/configmaps/aws-auth';

/** The ConfigMap, as far as the reconciler reads and writes it. */
export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  data?: Record<string, string>;
  [k: string]: unknown;
}

/** An aws-auth state the reconciler refuses to write over; nothing was written. */
export class FailSafeError extends Error {}

/** The custom resource writing: its stack, logical id and physical id. */
export interface Owner {
  /** The physical id (CloudFormation's name for this resource instance). */
  readonly id: string;
  readonly stack: string;
  readonly logicalId: string;
}

/**
 * How an entry came to be this stack's:
 * - `created`: it wrote the entry (there was none for the ARN);
 * - `adopted`: an identical entry was already there, written by someone else (EKS for a
 *   node role, eksctl, a hand edit); it stays when the stack lets go, as it was found;
 * - `takenOver`: aws-eks's aws-auth manifest of this stack wrote it before the reconciler
 *   (read from kubectl's last-applied configuration); removed when a new version of the
 *   stack revokes it or on a real stack delete, kept (as it was found) by a rollback,
 *   a cleanup, or a delete whose kind is unknown.
 */
export type How = 'created' | 'adopted' | 'takenOver';

/** One entry a generation holds: what it wants the ARN to resolve to, and how it came by it. */
export interface Claim {
  readonly section: Section;
  readonly arn: string;
  readonly username: string;
  readonly groups: string[];
  readonly how: How;
  /** The item's source text before this stack first changed it (adopted and taken-over entries). */
  readonly original?: string;
}

/** What one custom resource instance (one physical id) holds in aws-auth. */
export interface Generation {
  readonly id: string;
  readonly logicalId: string;
  readonly claims: Claim[];
  /**
   * Taken-over entries that an update revoked: if a rollback grants one again, it is still
   * taken over (kept, as it was, by a delete whose kind is unknown), not this stack's own.
   */
  readonly revoked?: Claim[];
}

/**
 * One record per stack on aws-auth (annotation `owner.cdk-eks-access.io/<hash of the stack
 * id>`): one aws-auth resource per cluster per stack (a synth error otherwise), so the
 * stack's record is that resource's. `current` is the instance that wrote last; `previous`
 * the instance it replaced under another logical id, kept until CloudFormation deletes one
 * of the two (a rollback deletes the new one: `previous` comes back).
 */
export interface StackRecord {
  readonly v: 2;
  readonly stack: string;
  readonly current: Generation;
  readonly previous?: Generation;
  /**
   * The request ids of the last events that wrote this record (CloudFormation's `RequestId`,
   * the same on every delivery of one event), newest last: an event delivered again after a
   * newer one wrote is not applied again (it would undo the newer one).
   */
  readonly requests?: string[];
}

/** How many request ids a record keeps. */
const KEPT_REQUESTS = 20;

/**
 * `previous` as stored: only how its claims differ from `current`'s (a replacement mostly
 * keeps them), so the record stays well under Kubernetes' 256 KiB for all annotations.
 */
interface StoredPrevious {
  readonly id: string;
  readonly logicalId: string;
  /** Its claims that `current` has not, or has otherwise. */
  readonly differs: Claim[];
  /** ARNs that `current` claims and it did not. */
  readonly absent: string[];
  /** Its `revoked` (comes back with it). */
  readonly revoked?: Claim[];
}

function encodePrevious(previous: Generation, current: Generation): StoredPrevious {
  const now = new Map(current.claims.map(c => [keyOf(c.arn), JSON.stringify(c)]));
  const had = new Set(previous.claims.map(c => keyOf(c.arn)));
  return {
    id: previous.id,
    logicalId: previous.logicalId,
    differs: previous.claims.filter(c => now.get(keyOf(c.arn)) !== JSON.stringify(c)),
    absent: current.claims.filter(c => !had.has(keyOf(c.arn))).map(c => c.arn),
    ...(previous.revoked?.length ? { revoked: previous.revoked } : {}),
  };
}

function decodePrevious(stored: StoredPrevious, current: Generation): Generation {
  const absent = new Set(stored.absent.map(keyOf));
  const differs = new Map(stored.differs.map(c => [keyOf(c.arn), c]));
  const claims = current.claims.filter(c => !absent.has(keyOf(c.arn)) && !differs.has(keyOf(c.arn)));
  const revoked = stored.revoked ? { revoked: stored.revoked } : {};
  return { id: stored.id, logicalId: stored.logicalId, claims: [...claims, ...stored.differs], ...revoked };
}

/** The owner's entries, for a Create or an Update. */
export interface AwsAuthDesired {
  readonly mapRoles: AwsAuthEntry[];
  readonly mapUsers: AwsAuthEntry[];
}

/** What CloudFormation asks of the aws-auth resource. */
export interface AwsAuthRequest {
  readonly owner: Owner;
  /** Create (or a replacement), Update, or Delete. */
  readonly requestType: 'Create' | 'Update' | 'Delete';
  /** The entries, for Create and Update. */
  readonly desired?: AwsAuthDesired;
  /**
   * The prune label of the aws-eks manifest that wrote aws-auth for this stack before
   * the reconciler (`aws.cdk.eks/prune-<addr>`). When aws-auth still carries it and the
   * stack has no record yet, the entries of kubectl's last-applied configuration are taken
   * over as this stack's.
   */
  readonly legacyPruneLabel?: string;
  /**
   * For a Delete: true when it revokes (the stack's delete, `DELETE_IN_PROGRESS`, or the
   * cleanup after a successful update whose version has no such resource), false when it
   * undoes (a rollback's cleanup, a failed create's rollback), undefined when unknown
   * (taken as an undo: what an undo keeps is kept).
   */
  readonly stackDelete?: boolean;
  /**
   * For an Update: true when it is a rollback's (`UPDATE_ROLLBACK_IN_PROGRESS`), false when
   * not, undefined when unknown. A taken-over entry that a failed update revoked stays taken
   * over when a rollback (or an unknown update) grants it again; otherwise it is the stack's own.
   */
  readonly rollback?: boolean;
  /** For a Delete: true when the stack itself is deleted (`DELETE_IN_PROGRESS`). */
  readonly stackDeleting?: boolean;
  /** For a Create: true when the stack itself is created (`CREATE_IN_PROGRESS`): no resource of it replaces another then. */
  readonly stackCreating?: boolean;
  /**
   * The entries of the resource's properties before this request (an Update's old
   * properties, a Delete's properties): what the reconciler's first release wrote for the
   * ARNs its record lists (it recorded ARNs only), when the event is for the instance that
   * wrote that record. Such an entry is removed only while it still has those values;
   * without them (a Create absorbing such a record), by its ARN.
   */
  readonly previousEntries?: AwsAuthDesired;
  /** The event's `RequestId` (see `StackRecord.requests`). @default - not checked */
  readonly requestId?: string;
}

/** The annotation that holds a stack's record. */
export function recordKey(stack: string): string {
  return OWNER_ANNOTATION_PREFIX + sha256Hex(stack).slice(0, 40);
}

const NODE_USERNAME = 'system:node:{{EC2PrivateDNSName}}';

function keyOf(arn: string): string {
  return arn.toLowerCase();
}

function sameGroups(a: string[], b: string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
}

/** Whether an item already resolves as the claim wants (a node mapping: EKS may add groups, e.g. Windows'). */
function satisfies(item: SectionItem, want: { username: string; groups: string[] }): boolean {
  if (item.username !== want.username) return false;
  if (want.username === NODE_USERNAME) return want.groups.every(g => item.groups.includes(g));
  return sameGroups(item.groups, want.groups);
}

function sameValues(item: SectionItem, claim: { username: string; groups: string[] }): boolean {
  return item.username === claim.username && sameGroups(item.groups, claim.groups);
}

function entryJson(section: Section, c: { arn: string; username: string; groups: string[] }): string {
  const json = itemJson({ [ARN_KEY[section]]: c.arn, username: c.username, groups: c.groups });
  if (json === undefined) {
    throw new FailSafeError(`the aws-auth entry of ${c.arn} holds a lone UTF-16 surrogate (username ${JSON.stringify(c.username)}, groups ${JSON.stringify(c.groups)}), which aws-auth cannot hold: aws-iam-authenticator's YAML reader would drop the whole section. Nothing was written. Fix the username or group.`);
  }
  return json;
}

/**
 * A record of the reconciler's first release (one annotation per physical id), read as a
 * generation. That release recorded ARNs only: the values it wrote are those of the
 * entries its properties declared (`known`), when the event carries them; otherwise they
 * stay unknown ('' username).
 */
function legacyRecordGeneration(id: string, value: any, properties: { id: string; entries: AwsAuthDesired } | undefined): Generation {
  const known = properties?.id === id ? properties.entries : undefined;
  const adopted = new Set<string>((value.adopted ?? []).map((a: string) => keyOf(a)));
  const claims: Claim[] = [];
  for (const section of SECTIONS) {
    for (const arn of value[section] ?? []) {
      const e = (known?.[section] ?? []).find(x => typeof x[ARN_KEY[section]] === 'string' && keyOf(x[ARN_KEY[section]]!) === keyOf(arn));
      const values = e && typeof e.username === 'string' && Array.isArray(e.groups) ? { username: e.username, groups: e.groups.map(String) } : { username: '', groups: [] };
      claims.push({ section, arn, ...values, how: adopted.has(keyOf(arn)) ? 'adopted' : 'created' });
    }
  }
  return { id, logicalId: String(value.logicalId ?? ''), claims };
}

interface Records {
  mine?: StackRecord;
  /** Annotation keys of this stack's records to remove when writing (the first release's). */
  stale: string[];
  /** Other stacks' claims: lower-case ARN -> who, and the annotation of their record. */
  others: Map<string, { readonly who: string; readonly key: string }>;
}

function readRecords(annotations: Record<string, string>, stack: string, known?: { id: string; entries: AwsAuthDesired }): Records {
  const result: Records = { stale: [], others: new Map() };
  const absorbed: Generation[] = [];
  const myKey = recordKey(stack);
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(OWNER_ANNOTATION_PREFIX)) continue;
    let parsed: any;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (key === myKey && (parsed?.v !== 2 || typeof parsed.current?.id !== 'string' || !Array.isArray(parsed.current?.claims))) {
      throw new FailSafeError(`aws-auth annotation ${key} (this stack's record) is not the JSON this library writes; nothing was written. Restore it or remove it by hand.`);
    }
    if (parsed === null || typeof parsed !== 'object') {
      console.error(`aws-auth annotation ${key} is not a record this library reads: ignored`);
      continue;
    }
    const v2 = parsed?.v === 2 && parsed.current && Array.isArray(parsed.current.claims);
    const recordStack = String(parsed?.stack ?? '');
    const gens: Generation[] = v2
      ? [parsed.current, parsed.previous ? decodePrevious(parsed.previous, parsed.current) : undefined].filter(Boolean)
      : [legacyRecordGeneration(key.slice(OWNER_ANNOTATION_PREFIX.length), parsed, known)];
    // another stack id is another stack, also one of the same name (a stack deleted with its
    // resources retained, or whose delete could not reach the cluster): what it holds is its own
    if (recordStack !== stack) {
      for (const gen of gens) for (const c of gen.claims ?? []) result.others.set(keyOf(c.arn), { who: `${gen.logicalId} of stack ${recordStack}`, key });
      continue;
    }
    if (v2 && key === myKey) {
      result.mine = { ...parsed, ...(parsed.previous ? { previous: decodePrevious(parsed.previous, parsed.current) } : {}) } as StackRecord;
    } else {
      // the first release's records of this stack: their entries are this stack's
      result.stale.push(key);
      absorbed.push(gens[0]);
    }
  }
  for (const gen of absorbed) {
    const base = result.mine?.current ?? gen;
    result.mine = { ...(result.mine ?? { v: 2, stack }), current: { ...base, claims: [...(result.mine?.current.claims ?? []), ...gen.claims] } };
  }
  return result;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The entries that aws-eks last applied for this stack (its prune label still on aws-auth), or none. */
function legacyClaims(existing: ConfigMap | undefined, label: string | undefined): Array<{ section: Section; arn: string }> {
  if (!existing || !label || existing.metadata.labels?.[label] === undefined) return [];
  try {
    const applied = JSON.parse(existing.metadata.annotations?.[LAST_APPLIED] ?? '');
    return SECTIONS.flatMap(section => readSection(section, applied?.data?.[section]).items
      .filter(i => i.valid && i.arn !== '')
      .map(i => ({ section, arn: i.arn })));
  } catch {
    return []; // not what aws-eks writes: claim nothing
  }
}

/** The edits of one section, collected while planning. */
class SectionPlan {
  public readonly remove = new Set<number>();
  public readonly replace = new Map<number, string | { readonly raw: string }>();
  public readonly append: string[] = [];
  /** Whole lines this stack wrote, taken out of a section that cannot be read (see `ownLine`). */
  public readonly removeLines: string[] = [];
  constructor(public readonly section: Section, public readonly parsed: ParsedSection) {}
  public get changed(): boolean {
    return this.remove.size + this.replace.size + this.append.length + this.removeLines.length > 0;
  }
}

/**
 * The one line of a section that holds, exactly as this stack writes it (`- <JSON>`), the
 * entry `c`; undefined when there is none, or more than one. In a section that cannot be read
 * (it does not parse, or this library declines it) the stack can still find and take out
 * the lines it wrote, so a revocation revokes even there.
 */
function ownLine(parsed: ParsedSection, section: Section, c: { arn: string; username: string; groups: string[] }): string | undefined {
  const json = itemJson({ [ARN_KEY[section]]: c.arn, username: c.username, groups: c.groups });
  if (json === undefined) return undefined;
  const lines = parsed.text.split(/(?<=\n)/).filter(l => l.replace(/\r?\n$/, '').trim() === `- ${json}`);
  return lines.length === 1 ? lines[0] : undefined;
}

/** The section's text without the lines in `plan.removeLines` (each once). */
function withoutOwnLines(plan: SectionPlan): string {
  const lines = plan.parsed.text.split(/(?<=\n)/);
  for (const line of plan.removeLines) {
    const at = lines.indexOf(line); // whole lines, never part of one
    if (at >= 0) lines.splice(at, 1);
  }
  return lines.join('');
}

function describeItem(section: Section, item: SectionItem): string {
  const what = item.arn !== '' ? `${ARN_KEY[section]} ${item.arn}` : `sso ${JSON.stringify(item.sso)}`;
  return `${section} item ${item.index + 1} (${what}, username ${JSON.stringify(item.username)}, groups ${JSON.stringify(item.groups)})`;
}

/**
 * The ConfigMap after the request (undefined: absent before), or undefined when nothing
 * changes. Pure: the tests drive it directly.
 *
 * - Sections are read as aws-iam-authenticator reads them; only the items of this stack's
 *   own ARNs are written, as text edits: every other byte stays.
 * - A Create or an Update refuses (FailSafeError, nothing written) only what would make one
 *   of its entries ineffective or ambiguous: another stack's claim on the ARN, a second
 *   entry matching it in either section (also by wildcard or `sso`), a section that the
 *   authenticator drops whole and that this stack must write into, or an unowned entry
 *   with other values (but a node mapping is satisfied by EKS's entry with more groups).
 * - Entries this stack held and no longer wants: `created` ones are removed, `adopted`
 *   ones are put back as they were, `takenOver` ones are removed on an update or a real
 *   stack delete and put back otherwise. An entry someone else changed since this stack
 *   wrote it is theirs: left alone.
 */
export function planAwsAuth(existing: ConfigMap | undefined, request: AwsAuthRequest): ConfigMap | undefined {
  const { owner } = request;
  const annotations = { ...(existing?.metadata.annotations ?? {}) };
  const labels = { ...(existing?.metadata.labels ?? {}) };
  const records = readRecords(annotations, owner.stack, request.previousEntries && { id: owner.id, entries: request.previousEntries });
  const mine = records.mine;
  const seen = mine?.requests ?? [];
  if (request.requestId !== undefined && seen.includes(request.requestId) && seen[seen.length - 1] !== request.requestId) {
    console.error(`aws-auth: request ${request.requestId} was applied before, and a newer one since: this delivery is late and changes nothing`);
    return undefined;
  }
  const requests = request.requestId === undefined ? seen : [...seen.filter(r => r !== request.requestId), request.requestId].slice(-KEPT_REQUESTS);

  // Which generation is now current, what it held (claims), and what it must hold (target).
  let held: Claim[];
  let target: Array<Omit<Claim, 'how' | 'original'> & Partial<Pick<Claim, 'how' | 'original'>>>;
  let keepPrevious: Generation | undefined;
  let currentAfter: { id: string; logicalId: string } | undefined;
  let releaseTakenOver: boolean;
  let legacy: Array<{ section: Section; arn: string }> = [];
  /** A Create of the logical id whose earlier attempt (a create whose answer was lost, so a failed one) wrote last. */
  let retriesFailedCreate = false;
  if (request.requestType === 'Delete') {
    if (!mine) return undefined;
    if (mine.current.id !== owner.id) {
      // the instance that another one replaced (deleted after a successful update): it
      // holds nothing any more; any other instance (never created, long gone) has no say
      if (request.stackDeleting && existing) {
        // the stack itself is deleted: the instance that holds the record is a failed create
        // that could not take its writes back (a live one gets its own Delete): all goes
        held = mine.current.claims;
        target = [];
        currentAfter = undefined;
        releaseTakenOver = true;
      } else {
        // The replaced instance's Delete drops `previous`. So does the Delete of an instance the
        // record does not know, unless it is known to undo: CloudFormation had that instance
        // until now (a live one was replaced, and the cleanup after the update deletes it), so
        // `previous` never was the stack's (a replacing create whose answer was lost and whose
        // cleanup could not reach the cluster, which the current instance then replaced): a
        // later Delete of the current instance must not bring it back.
        if (!existing || !mine.previous || (mine.previous.id !== owner.id && request.stackDelete === false)) return undefined;
        const { previous: _dropped, ...rest } = mine;
        for (const key of records.stale) delete annotations[key];
        return withAnnotations(existing, { ...annotations, [recordKey(owner.stack)]: JSON.stringify(rest) });
      }
    } else if (mine.previous && request.stackDelete !== true) {
      // a rollback (or the cleanup of a failed create) deletes the instance that replaced
      // `previous`: what `previous` held comes back
      held = mine.current.claims;
      target = mine.previous.claims;
      currentAfter = mine.previous;
      // what the instance being deleted holds and `previous` did not, it wrote itself
      releaseTakenOver = true;
    } else {
      held = mine.current.claims;
      target = [];
      currentAfter = undefined;
      releaseTakenOver = request.stackDelete === true;
    }
  } else {
    const desired = request.desired ?? { mapRoles: [], mapUsers: [] };
    target = SECTIONS.flatMap(section => desired[section].map(e => {
      const arn = e[ARN_KEY[section]];
      if (typeof arn !== 'string' || arn === '') throw new Error(`desired ${section} entry without ${ARN_KEY[section]}: ${JSON.stringify(e)}`);
      return { section, arn, username: e.username ?? '', groups: [...(e.groups ?? [])] };
    }));
    if (mine && (mine.current.id === owner.id || mine.current.logicalId === owner.logicalId)) {
      // this instance, or an earlier attempt of the same resource (a create whose answer was lost)
      retriesFailedCreate = request.requestType === 'Create' && mine.current.id !== owner.id;
      held = mine.current.claims;
      keepPrevious = request.requestType === 'Update' ? undefined : mine.previous;
    } else if (mine && request.requestType === 'Create' && request.stackCreating === true && mine.current.logicalId !== owner.logicalId) {
      // a stack's own create replaces nothing: another aws-auth resource of this stack wrote for
      // this cluster in this very deploy (one cluster imported twice, under names synth could
      // not tell apart); taking its entries over would remove them
      throw new FailSafeError(`this stack has two aws-auth resources for one cluster: ${mine.current.logicalId} wrote aws-auth, and ${owner.logicalId} would replace what it wrote (its system:masters entries included). Nothing was written. Give the cluster one ClusterAccess per stack: use one cluster construct for it (two imports of one cluster whose names synth cannot compare, e.g. a parameter and a literal, make two).`);
    } else if (mine) {
      // a Create under a new logical id replaces the current instance: what it held is handed
      // on, and it stays `previous` until CloudFormation deletes one of the two. An Update of
      // another logical id finds a current instance that CloudFormation does not have (a
      // replacing create whose write landed, whose answer was lost and whose own cleanup
      // could not reach the cluster; a live replacement would have removed this logical id
      // from the stack): its writes are taken back as this instance's, and it is dropped,
      // or a later Delete of this instance would bring it back as `previous`
      held = mine.current.claims;
      keepPrevious = request.requestType === 'Create' ? mine.current : undefined;
    } else {
      held = [];
    }
    // aws-eks's label is there when it applied after this stack's last write (first, or
    // again in a rollback that an earlier attempt of this resource could not undo)
    legacy = legacyClaims(existing, request.legacyPruneLabel);
    currentAfter = { id: owner.id, logicalId: owner.logicalId };
    releaseTakenOver = true;
  }

  const plans: Record<Section, SectionPlan> = {
    mapRoles: new SectionPlan('mapRoles', readSection('mapRoles', existing?.data?.mapRoles)),
    mapUsers: new SectionPlan('mapUsers', readSection('mapUsers', existing?.data?.mapUsers)),
  };
  const heldByKey = new Map<string, Claim>();
  for (const c of held) heldByKey.set(keyOf(c.arn), c);
  // aws-eks's entries of this stack, as they are now: taken over
  for (const l of legacy) {
    const item = exactItems(plans[l.section], l.arn)[0];
    const prior = heldByKey.get(keyOf(l.arn));
    // a claim aws-eks's apply has since overwritten (a rollback re-applied its manifest after a
    // create of this resource that could not take its writes back) is aws-eks's entry as it is now
    if (item && (!prior || (prior.how !== 'adopted' && !sameValues(item, prior)))) {
      // a node role is EKS's too (it writes managed node groups' roles itself): adopted, never removed
      const how: How = item.username === NODE_USERNAME ? 'adopted' : 'takenOver';
      heldByKey.set(keyOf(l.arn), { section: l.section, arn: l.arn, username: item.username, groups: item.groups, how });
    }
  }

  const problems: string[] = [];
  // bringing `previous` back (a Delete) must not fail over what others wrote since: what
  // cannot be restored unambiguously is left as it is
  // a rollback's update must not fail either: the state it cannot write is left as it is
  // (nothing of it gets worse), the claim this stack held kept; an update whose kind is
  // unknown refuses, as a forward one does (the user sees why)
  const lenient = request.requestType === 'Delete' || (request.requestType === 'Update' && request.rollback === true);
  const refuse = (problem: string, arn?: string) => {
    if (!lenient) {
      problems.push(problem);
      return;
    }
    console.error(`not ${request.requestType === 'Delete' ? 'restored' : 'rolled back'}: ${problem}`);
    // what this stack holds for it stays recorded as its own (a rollback's cleanup that cannot
    // put back what the replaced instance held must not forget what the deleted one wrote)
    const prior = arn !== undefined ? heldByKey.get(keyOf(arn)) : undefined;
    if (prior) claims.push({ ...prior });
  };
  const claims: Claim[] = [];
  const wanted = new Set<string>();
  const unreleased: Claim[] = [];
  // taken-over entries revoked so far, of the generation that is current after this request
  // (a Delete that brings `previous` back: previous's)
  const revokedBefore = request.requestType !== 'Delete' ? mine?.current.revoked : currentAfter === mine?.previous ? mine?.previous?.revoked : undefined;
  const revoked = new Map<string, Claim>((revokedBefore ?? []).map(c => [keyOf(c.arn), c]));
  for (const t of target) {
    const key = keyOf(t.arn);
    if (wanted.has(key)) throw new FailSafeError(`this stack declares ${t.arn} twice; nothing was written.`);
    wanted.add(key);
    const other = records.others.get(key);
    if (other) {
      refuse(`${t.arn} is already granted in aws-auth by ${other.who}; one principal can have only one aws-auth entry. Grant it in one stack only. If that stack no longer exists (deleted with its resources retained, or its delete could not reach the cluster), its entry stays its own: drop this grant, or remove that entry and that stack's record by hand (kubectl -n kube-system annotate configmap aws-auth ${other.key}-).`, t.arn);
      continue;
    }
    const plan = plans[t.section];
    if (plan.parsed.state === 'invalid') {
      // already there, as this stack wrote it: nothing to write, so nothing to refuse
      const mineNow = heldByKey.get(key);
      const unchanged = mineNow && mineNow.section === t.section && mineNow.username === t.username && sameGroups(mineNow.groups, t.groups);
      if (mineNow && unchanged && ownLine(plan.parsed, t.section, mineNow) !== undefined) {
        claims.push({ ...mineNow });
        continue;
      }
      refuse(`${sectionProblem(t.section, plan.parsed)}; ${t.arn} could not be granted. Fix the ConfigMap (kubectl -n kube-system edit configmap aws-auth) and deploy again.`, t.arn);
      continue;
    }
    const matching = SECTIONS.flatMap(s => plans[s].parsed.items.filter(i => itemMatches(s, i, t.arn)).map(item => ({ s, item })));
    const exact = matching.filter(m => m.s === t.section && m.item.arn !== '' && !/[*?]/.test(m.item.arn));
    const others = matching.filter(m => !exact.includes(m));
    if (exact.length > 1 || others.length > 0) {
      refuse(`aws-auth has more than one entry that matches ${t.arn} (${matching.map(m => describeItem(m.s, m.item)).join('; ')}); aws-iam-authenticator would use only one of them. Remove the others (eksctl delete iamidentitymapping, or kubectl -n kube-system edit configmap aws-auth), or drop the grant.`, t.arn);
      continue;
    }
    // what this stack held for the ARN (when `previous` comes back: what it held)
    const prior = heldByKey.get(key);
    const item = exact[0]?.item;
    if (!prior && t.how && item) {
      // `previous` comes back and held this ARN, which the instance being deleted let go of:
      // the item there now is ours only if it is as `previous` left it (or as it was found)
      const found = t.original !== undefined && itemText(plan, item) === t.original;
      if (found) plan.replace.set(item.index, entryJson(t.section, t));
      if (found || satisfies(item, t)) claims.push({ ...t, how: t.how } as Claim);
      continue; // otherwise someone else's since: theirs, left alone
    }
    if (!item) {
      plan.append.push(entryJson(t.section, t));
      // `previous` coming back: as it held it; a rollback granting a revoked taken-over entry again,
      // or a create granting one that an earlier, failed attempt of it revoked: taken over
      const undoes = (request.requestType === 'Update' && request.rollback !== false) || retriesFailedCreate;
      const was = t.how ? t as Claim : undoes ? revoked.get(key) : undefined;
      const how: How = was?.how === 'takenOver' ? 'takenOver' : 'created';
      claims.push({ section: t.section, arn: t.arn, username: t.username, groups: t.groups, how, ...(how === 'takenOver' && was?.original !== undefined ? { original: was.original } : {}) });
      revoked.delete(key);
      continue;
    }
    if (prior && prior.section === t.section) {
      let original = prior.original;
      if (!satisfies(item, t) || (prior.how === 'created' && !sameValues(item, t))) {
        if (prior.how !== 'created' && original === undefined) original = itemText(plan, item);
        plan.replace.set(item.index, entryJson(t.section, t));
      }
      claims.push({
        section: t.section, arn: t.arn, username: t.username, groups: t.groups, how: prior.how, ...(original !== undefined ? { original } : {}),
      });
      continue;
    }
    if (!satisfies(item, t)) {
      refuse(`aws-auth already maps ${t.arn} (${describeItem(t.section, item)}) and this stack did not write that entry; this stack wants username ${JSON.stringify(t.username)}, groups ${JSON.stringify(t.groups)}. Two entries for one ARN would drop one of them. Remove that entry (eksctl delete iamidentitymapping, or kubectl -n kube-system edit configmap aws-auth) or drop the grant.`, t.arn);
      continue;
    }
    claims.push({ section: t.section, arn: t.arn, username: t.username, groups: t.groups, how: 'adopted' });
  }
  if (problems.length > 0) throw new FailSafeError(refusalMessage(problems, 'Nothing was written.'));
  if (request.requestType === 'Delete') {
    // `previous` coming back could not get a taken-over entry back (someone else's entry matches
    // its ARN now): it stays known as taken over, so that a rollback granting it again (the one
    // of the update that replaced `previous` cannot, but a later one) keeps it so
    const restored = new Set(claims.map(c => keyOf(c.arn)));
    for (const t of target) if (t.how === 'takenOver' && !restored.has(keyOf(t.arn))) revoked.set(keyOf(t.arn), t as Claim);
  }

  // what this stack held and no longer wants. A forward update (a new version without the
  // grant) must leave the principal unmapped or fail. A Delete never fails over it: the
  // cleanup after an update is never retried by CloudFormation (a failure there would leave
  // every entry of the resource behind), and a stack's delete that fails invites RETAIN,
  // which leaves them all: it removes what this stack wrote, and logs what still maps the
  // principal.
  const revoking = request.requestType === 'Update' && request.rollback === false;
  const revokeProblems: string[] = [];
  const leftovers: string[] = [];
  for (const [key, c] of heldByKey) {
    if (wanted.has(key)) continue;
    const plan = plans[c.section];
    if (plan.parsed.state !== 'list') {
      if (plan.parsed.state !== 'invalid') continue;
      // a section that cannot be read: the line this stack wrote, found exactly as written, goes
      const releasing = c.how === 'created' || (c.how === 'takenOver' && releaseTakenOver);
      const line = releasing ? ownLine(plan.parsed, c.section, c) : undefined;
      if (line !== undefined) {
        plan.removeLines.push(line);
        if (c.how === 'takenOver' && request.requestType !== 'Delete') revoked.set(key, c);
        continue;
      }
      if (releasing && request.requestType === 'Update' && request.rollback === false) {
        // a revocation that cannot be carried out is refused, never reported as done
        throw new FailSafeError(`${sectionProblem(c.section, plan.parsed)}; the entry of ${c.arn} that this stack wrote is not there as written, so it cannot be revoked safely. Nothing was written. Fix the section or remove the entry by hand (kubectl -n kube-system edit configmap aws-auth), and deploy again.`);
      }
      // otherwise (a rollback, a delete) the claim stays recorded, so a later operation removes
      // it once the section is fixed; the log says the access remains
      unreleased.push(c);
      continue;
    }
    if (c.how !== 'created' && c.original === undefined && !(c.how === 'takenOver' && releaseTakenOver)) continue; // as it was found
    // values unknown ('' username): a claim of the first release, which recorded ARNs only
    const item = exactItems(plan, c.arn).find(i => sameValues(i, c) || c.username === '');
    const removing = c.how === 'created' || (c.how === 'takenOver' && releaseTakenOver);
    if (removing) {
      // a revocation that leaves the principal mapped is refused (otherwise logged), never reported as done
      // another entry that still maps the principal to a group this stack granted it (an
      // identical copy, the stack's entry edited by hand): the grant would live on
      const still = SECTIONS.flatMap(s => plans[s].parsed.items
        .filter(i => i !== item && itemMatches(s, i, c.arn) && i.groups.some(g => c.groups.includes(g)))
        .map(i => describeItem(s, i)));
      if (still.length > 0 && !revoking) {
        leftovers.push(`${c.arn}: ${still.join('; ')}`);
      } else if (still.length > 0) {
        revokeProblems.push(item
          ? `${c.arn} is revoked, but aws-auth has other entries that also map it to groups this stack granted (${still.join('; ')}), so aws-iam-authenticator would still grant them.`
          : `${c.arn} is revoked, but the entry this stack wrote for it (username ${JSON.stringify(c.username)}, groups ${JSON.stringify(c.groups)}) was changed by someone else since (${still.join('; ')}); it is theirs now, so it stays and still grants ${c.arn} groups this stack granted.`);
        continue;
      }
    }
    if (!item) continue; // gone, or changed by someone else since: theirs now
    if (removing) {
      plan.remove.add(item.index);
      if (c.how === 'takenOver' && request.requestType !== 'Delete') revoked.set(key, c);
    } else if (c.original !== undefined && sameValues(item, c)) {
      plan.replace.set(item.index, { raw: c.original });
    }
  }

  if (leftovers.length > 0) {
    console.error(`aws-auth: this stack's entries are removed, but other entries still map these principals to groups it granted, so THEIR ACCESS REMAINS until someone removes them (kubectl -n kube-system edit configmap aws-auth): ${leftovers.join(' | ')}`);
  }
  if (revokeProblems.length > 0) {
    throw new FailSafeError(refusalMessage(revokeProblems,
      'Nothing was written. Remove those entries by hand (eksctl delete iamidentitymapping, or kubectl -n kube-system edit configmap aws-auth) and deploy again, or keep the grant.'));
  }

  // the record
  const myKey = recordKey(owner.stack);
  for (const key of records.stale) delete annotations[key];
  if (unreleased.length > 0) {
    console.error(`aws-auth: ${unreleased.map(c => c.arn).join(', ')} could not be removed (their section cannot be read, and the entry is not there as this stack wrote it): THEIR ACCESS REMAINS; still recorded as this stack's, so a later deploy removes them once the section is fixed`);
    claims.push(...unreleased);
    if (!currentAfter) {
      currentAfter = mine!.current;
      for (const c of mine!.current.revoked ?? []) revoked.set(keyOf(c.arn), c);
    }
  }
  if (currentAfter) {
    const current: Generation = {
      id: currentAfter.id, logicalId: currentAfter.logicalId, claims, ...(revoked.size > 0 ? { revoked: [...revoked.values()] } : {}),
    };
    const previous = keepPrevious ? { previous: encodePrevious(keepPrevious, current) } : {};
    // with this event's id: an event whose id is new writes at least that (its late delivery
    // after a newer event then changes nothing); one delivered again writes nothing new
    annotations[myKey] = JSON.stringify({ v: 2, stack: owner.stack, current, ...previous, ...(requests.length > 0 ? { requests } : {}) });
  } else {
    delete annotations[myKey];
  }
  if (legacy.length > 0) {
    // aws-eks's claim is handed over once: its label and last-applied configuration go
    delete labels[request.legacyPruneLabel!];
    delete annotations[LAST_APPLIED];
  }

  assertAnnotationsFit(annotations);
  const data = { ...(existing?.data ?? {}) };
  for (const section of SECTIONS) {
    const plan = plans[section];
    if (plan.changed) data[section] = plan.parsed.state === 'invalid' ? withoutOwnLines(plan) : verifiedEdit(plan);
  }
  if (!existing) {
    if (!currentAfter) return undefined;
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system', labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, annotations },
      data,
    };
  }
  if (JSON.stringify(existing.data ?? {}) === JSON.stringify(data)
    && JSON.stringify(existing.metadata.annotations ?? {}) === JSON.stringify(annotations)
    && JSON.stringify(existing.metadata.labels ?? {}) === JSON.stringify(labels)) {
    return undefined;
  }
  return { ...existing, metadata: { ...existing.metadata, labels, annotations }, data };
}

/** Whether `text` reads as `plan` meant: every item it did not touch as before, in order, and as many items as planned. */
function readsAsPlanned(plan: SectionPlan, text: string): boolean {
  const after = readSection(plan.section, text);
  if (after.state === 'invalid') return false;
  const expected: Array<SectionItem | undefined> = [];
  plan.parsed.items.forEach((item, i) => {
    if (!plan.remove.has(i)) expected.push(plan.replace.has(i) ? undefined : item);
  });
  plan.append.forEach(() => expected.push(undefined));
  if (after.items.length !== expected.length) return false;
  const same = (a: SectionItem, b: SectionItem) => a.arn === b.arn && a.username === b.username && a.valid === b.valid
    && JSON.stringify(a.groups) === JSON.stringify(b.groups) && JSON.stringify(a.sso) === JSON.stringify(b.sso);
  return expected.every((e, i) => e === undefined || same(e, after.items[i]));
}

/**
 * The section's new text, checked by reading it back: an edit must never change what the
 * stack did not write (an anchor another item's alias needs, a layout the text edit cannot
 * follow). An entry put back as it was found falls back to its values as JSON; if the text
 * still does not read as planned, nothing is written.
 */
function verifiedEdit(plan: SectionPlan): string {
  const text = editSection(plan.parsed, plan);
  if (readsAsPlanned(plan, text)) return text;
  for (const [i, r] of plan.replace) {
    if (typeof r === 'string') continue;
    // block lines (`- …`) or a flow item (`{…}`): the section may have changed style since
    const found = readSection(plan.section, r.raw).items[0] ?? readSection(plan.section, `[${r.raw}]`).items[0];
    if (found) plan.replace.set(i, entryJson(plan.section, found));
  }
  const fallback = editSection(plan.parsed, plan);
  if (readsAsPlanned(plan, fallback)) return fallback;
  throw new FailSafeError(`editing aws-auth ${plan.section} would change entries this stack did not write (an anchor that another entry's alias uses, or a layout a text edit cannot follow); nothing was written. Rewrite the section as a plain list (kubectl -n kube-system edit configmap aws-auth) and deploy again.`);
}

/** Kubernetes' limit on all annotations of one object together (apimachinery's TotalAnnotationSizeLimitB). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

function assertAnnotationsFit(annotations: Record<string, string>) {
  const sizes = Object.entries(annotations).map(([k, v]) => ({ k, n: Buffer.byteLength(k) + Buffer.byteLength(v) }));
  const total = sizes.reduce((n, x) => n + x.n, 0);
  if (total <= MAX_ANNOTATIONS_BYTES) return;
  const biggest = sizes.sort((a, b) => b.n - a.n).slice(0, 3).map(x => `${x.k} (${x.n} bytes)`).join(', ');
  throw new FailSafeError(`aws-auth's annotations would take ${total} bytes, over Kubernetes' ${MAX_ANNOTATIONS_BYTES} for one object; nothing was written. The largest: ${biggest}. A kubectl.kubernetes.io/last-applied-configuration left by kubectl apply can be removed by hand; otherwise grant fewer principals through aws-auth on this cluster (access entries have no such limit).`);
}

function withAnnotations(existing: ConfigMap, annotations: Record<string, string>): ConfigMap {
  return { ...existing, metadata: { ...existing.metadata, annotations } };
}

function exactItems(plan: SectionPlan, arn: string): SectionItem[] {
  return plan.parsed.items.filter(i => i.valid && i.arn !== '' && !/[*?]/.test(i.arn) && keyOf(i.arn) === keyOf(arn));
}

/** The item's own source text (its node, without the sequence's `- ` and the final newline). */
function itemText(plan: SectionPlan, item: SectionItem): string {
  return itemSource(plan.parsed, item.index);
}

/**
 * Reads aws-auth, plans, and writes with the read `resourceVersion` (PUT) or creates it
 * (POST); a 409 (someone else wrote first, or created it first) re-reads and re-plans.
 * Never deletes the ConfigMap.
 */
export async function reconcileAwsAuth(api: KubeApi, request: AwsAuthRequest, retry: RetryOptions = {}): Promise<void> {
  await withRetries('aws-auth', retry, async () => {
    const got = await api.request('GET', AWS_AUTH_PATH);
    if (got.status !== 200 && got.status !== 404) throw new KubeError(got.status, 'GET', AWS_AUTH_PATH, got.body);
    const existing = got.status === 200 ? got.body as ConfigMap : undefined;
    const next = planAwsAuth(existing, request);
    if (!next) return;
    const res = existing
      ? await api.request('PUT', AWS_AUTH_PATH, next)
      : await api.request('POST', '/api/v1/namespaces/kube-system/configmaps', next);
    if (res.status === 409) throw new Retry(`${existing ? 'PUT' : 'POST'} answered 409`);
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, existing ? 'PUT' : 'POST', AWS_AUTH_PATH, res.body);
  });
}
