// yaml is bundled into the handler at build time (esbuild), so it is a devDependency.
// eslint-disable-next-line import/no-extraneous-dependencies
import * as YAML from 'yaml';
import { KubeApi, KubeError, Retry, RetryOptions, withRetries } from './kube';
import { AwsAuthEntry, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_ANNOTATION_PREFIX } from './protocol';

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

/** What one owner (one custom resource) wrote, recorded in its annotation. */
export interface OwnerRecord {
  /** CloudFormation stack id of the owner. */
  readonly stack: string;
  readonly logicalId: string;
  readonly mapRoles: string[];
  readonly mapUsers: string[];
  /** Entries that were already there, identical, when the owner first wanted them: never removed by it. */
  readonly adopted: string[];
  /** The original content of adopted entries this owner changed, put back when it lets go (by lower-case ARN). */
  readonly restore?: Record<string, Record<string, unknown>>;
}

/** The owner's entries; `undefined` removes all of them (the resource is being deleted). */
export interface AwsAuthDesired {
  readonly mapRoles: AwsAuthEntry[];
  readonly mapUsers: AwsAuthEntry[];
}

export interface Owner {
  readonly id: string;
  readonly stack: string;
  readonly logicalId: string;
}

/** An aws-auth state the reconciler refuses to write over; nothing was written. */
export class FailSafeError extends Error {}

type Section = 'mapRoles' | 'mapUsers';
const SECTIONS: Section[] = ['mapRoles', 'mapUsers'];
const ARN_KEY: Record<Section, 'rolearn' | 'userarn'> = { mapRoles: 'rolearn', mapUsers: 'userarn' };

/** Identity of an entry: section and ARN, case-insensitively (as aws-iam-authenticator compares). */
function keyOf(section: Section, arn: string): string {
  return `${section}:${arn.toLowerCase()}`;
}

/** Parses one section of aws-auth; anything but a list of entries with an ARN is refused. */
export function parseSection(section: Section, text: string | undefined): Array<Record<string, unknown>> {
  if (text === undefined || text.trim() === '') return [];
  // YAML 1.1, as aws-iam-authenticator (go-yaml) reads it: `on` is a boolean there
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: false, version: '1.1' });
  if (doc.errors.length > 0) {
    throw new FailSafeError(`aws-auth ${section} is not valid YAML (${doc.errors[0].message}); nothing was written. Fix the ConfigMap (kubectl -n kube-system edit configmap aws-auth) and deploy again.`);
  }
  const value = doc.toJS();
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new FailSafeError(`aws-auth ${section} is not a list (it is ${typeof value}); nothing was written. Fix the ConfigMap and deploy again.`);
  value.forEach((entry, i) => {
    const arn = entry?.[ARN_KEY[section]];
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || typeof arn !== 'string' || arn === '') {
      throw new FailSafeError(`aws-auth ${section} item ${i + 1} has no ${ARN_KEY[section]} (${JSON.stringify(entry)}); nothing was written. Fix the ConfigMap and deploy again.`);
    }
  });
  return value;
}

function sameEntry(a: Record<string, unknown>, b: AwsAuthEntry): boolean {
  const groups = (g: unknown) => JSON.stringify(Array.isArray(g) ? [...g].map(String).sort() : []);
  return a.username === b.username && groups(a.groups) === groups(b.groups);
}

function parseOwners(annotations: Record<string, string>): Map<string, OwnerRecord> {
  const owners = new Map<string, OwnerRecord>();
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(OWNER_ANNOTATION_PREFIX)) continue;
    let record: Partial<OwnerRecord>;
    try {
      record = JSON.parse(value);
    } catch {
      throw new FailSafeError(`aws-auth annotation ${key} is not the JSON this library writes; nothing was written. Restore it or remove it by hand.`);
    }
    owners.set(key.slice(OWNER_ANNOTATION_PREFIX.length), {
      stack: String(record.stack ?? ''),
      logicalId: String(record.logicalId ?? ''),
      mapRoles: Array.isArray(record.mapRoles) ? record.mapRoles.map(String) : [],
      mapUsers: Array.isArray(record.mapUsers) ? record.mapUsers.map(String) : [],
      adopted: Array.isArray(record.adopted) ? record.adopted.map(String) : [],
      restore: record.restore && typeof record.restore === 'object' ? record.restore : undefined,
    });
  }
  return owners;
}

function ownedKeys(record: OwnerRecord): string[] {
  return [...record.mapRoles.map(a => keyOf('mapRoles', a)), ...record.mapUsers.map(a => keyOf('mapUsers', a))];
}

function describeOwner(id: string, record: OwnerRecord): string {
  return `${record.logicalId} of stack ${record.stack} (owner ${id})`;
}

export interface PlanOptions {
  /**
   * The prune label of the aws-eks manifest that wrote aws-auth for this stack before
   * the reconciler (`aws.cdk.eks/prune-<addr>`). When aws-auth still carries it and this
   * owner has no record yet, the entries of kubectl's last-applied configuration were
   * written by this stack: they are this owner's (so a grant removed in the same deploy
   * is removed), not adopted.
   */
  readonly legacyPruneLabel?: string;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The keys of the entries that aws-eks last applied for this stack, or none. */
function legacyKeys(existing: ConfigMap | undefined, label: string | undefined): string[] {
  if (!existing || !label || existing.metadata.labels?.[label] === undefined) return [];
  try {
    const applied = JSON.parse(existing.metadata.annotations?.[LAST_APPLIED] ?? '');
    return SECTIONS.flatMap(section => (JSON.parse(applied?.data?.[section] ?? '[]') as Array<Record<string, unknown>>)
      .filter(e => typeof e?.[ARN_KEY[section]] === 'string')
      .map(e => keyOf(section, e[ARN_KEY[section]] as string)));
  } catch {
    return []; // not what aws-eks writes: claim nothing
  }
}

/**
 * The ConfigMap after `owner` writes `desired` over `existing` (undefined: absent), or
 * undefined when nothing changes. Pure: the tests drive it directly.
 *
 * - Entries that no owner claims (node roles, eksctl, hand edits) are kept as they are,
 *   in place. If one has the ARN of a desired entry and the same username and groups,
 *   it is adopted: never removed by this owner, and put back as it was if this owner
 *   changed it. If it differs, that is refused.
 * - Owners of the same stack may claim the same entry (CloudFormation replacing a
 *   resource creates the new one before it deletes the old one, and a rollback may delete
 *   the new one instead): an entry goes only when no owner claims it any more. Another
 *   stack's claim is refused.
 * - Entries this owner claimed before and no longer wants are removed, unless adopted or
 *   still claimed by another owner.
 * - A result with two entries for one ARN is refused.
 */
export function planAwsAuth(
  existing: ConfigMap | undefined, owner: Owner, desired: AwsAuthDesired | undefined, options: PlanOptions = {},
): ConfigMap | undefined {
  if (!existing && !desired) return undefined;
  const annotations = { ...(existing?.metadata.annotations ?? {}) };
  const labels = { ...(existing?.metadata.labels ?? {}) };
  const owners = parseOwners(annotations);
  const mine = owners.get(owner.id);
  owners.delete(owner.id);
  const previous = new Set(mine ? ownedKeys(mine) : []);
  const legacy = mine ? [] : legacyKeys(existing, options.legacyPruneLabel);
  legacy.forEach(k => previous.add(k));
  /** adopted ARNs (lower case) -> their original content when this owner changed them */
  const adopted = new Map<string, Record<string, unknown> | undefined>();
  for (const a of mine?.adopted ?? []) adopted.set(a.toLowerCase(), mine?.restore?.[a.toLowerCase()]);

  const want = new Map<string, { section: Section; entry: AwsAuthEntry }>();
  for (const section of SECTIONS) {
    for (const entry of desired?.[section] ?? []) {
      const arn = entry[ARN_KEY[section]];
      if (typeof arn !== 'string' || arn === '') throw new Error(`desired ${section} entry without ${ARN_KEY[section]}: ${JSON.stringify(entry)}`);
      const key = keyOf(section, arn);
      if (want.has(key)) throw new FailSafeError(`this stack declares ${arn} twice in ${section}; nothing was written.`);
      want.set(key, { section, entry });
    }
  }

  // Claims of other owners: the same stack's are shared, another stack's are refused.
  const claimants = new Map<string, string[]>();
  for (const [id, record] of owners) for (const key of ownedKeys(record)) claimants.set(key, [...(claimants.get(key) ?? []), id]);
  for (const [key, { entry }] of want) {
    const arn = (entry.rolearn ?? entry.userarn)!;
    for (const other of claimants.get(key) ?? []) {
      const record = owners.get(other)!;
      if (record.stack !== owner.stack) {
        throw new FailSafeError(`${arn} is already granted in aws-auth by ${describeOwner(other, record)}; one principal can have only one aws-auth entry (aws-iam-authenticator keeps one of them). Nothing was written. Grant it in one stack only.`);
      }
      // an entry the other owner adopted stays adopted (it existed before this stack wrote it)
      const lower = arn.toLowerCase();
      if (record.adopted.some(a => a.toLowerCase() === lower) && !adopted.has(lower)) adopted.set(lower, record.restore?.[lower]);
    }
  }

  const data = { ...(existing?.data ?? {}) };
  const current: Partial<Record<Section, Array<Record<string, unknown>>>> = {};
  const sections: Partial<Record<Section, Array<Record<string, unknown>>>> = {};
  for (const section of SECTIONS) {
    const out: Array<Record<string, unknown>> = [];
    const placed = new Set<string>();
    current[section] = parseSection(section, data[section]);
    for (const item of current[section]!) {
      const arn = item[ARN_KEY[section]] as string;
      const lower = arn.toLowerCase();
      const key = keyOf(section, arn);
      const wanted = want.get(key);
      const shared = (claimants.get(key) ?? []).length > 0;
      if (wanted && !placed.has(key)) {
        placed.add(key);
        if (previous.has(key) || shared) {
          // ours (or shared in this stack): rewrite; remember an adopted entry's original
          if (adopted.has(lower) && adopted.get(lower) === undefined && !sameEntry(item, wanted.entry)) adopted.set(lower, item);
          out.push({ ...wanted.entry });
          continue;
        }
        if (!sameEntry(item, wanted.entry)) {
          throw new FailSafeError(`aws-auth already maps ${arn} (username ${JSON.stringify(item.username)}, groups ${JSON.stringify(item.groups)}) and this library did not write that entry; this stack wants username ${JSON.stringify(wanted.entry.username)}, groups ${JSON.stringify(wanted.entry.groups)}. Two entries for one ARN would drop one of them. Nothing was written. Remove that entry (eksctl delete iamidentitymapping, or kubectl -n kube-system edit configmap aws-auth) or drop the grant.`);
        }
        adopted.set(lower, undefined);
        out.push(item);
        continue;
      }
      if (!wanted && previous.has(key) && !shared) {
        // ours and no longer wanted: removed, unless it was there before us
        if (adopted.has(lower)) out.push(adopted.get(lower) ?? item);
        continue;
      }
      out.push(item); // someone else's (or a second entry for one ARN, refused below)
    }
    for (const [key, { section: s, entry }] of want) {
      if (s === section && !placed.has(key)) out.push({ ...entry });
    }
    const seen = new Map<string, string[]>();
    for (const item of out) {
      const arn = item[ARN_KEY[section]] as string;
      const key = keyOf(section, arn);
      seen.set(key, [...(seen.get(key) ?? []), arn]);
    }
    const duplicates = Array.from(seen.values()).filter(arns => arns.length > 1).map(arns => arns.join(' and '));
    if (duplicates.length > 0) {
      throw new FailSafeError(`aws-auth ${section} would hold more than one entry for ${duplicates.join(', ')} (aws-iam-authenticator keeps only one, dropping the other's groups). Nothing was written. Merge those entries by hand (kubectl -n kube-system edit configmap aws-auth) and deploy again.`);
    }
    sections[section] = out;
  }

  const myKey = OWNER_ANNOTATION_PREFIX + owner.id;
  if (desired) {
    const list = (section: Section) => Array.from(want.values()).filter(w => w.section === section).map(w => (w.entry[ARN_KEY[section]])!);
    const kept = Array.from(adopted.keys()).filter(a => want.has(keyOf('mapRoles', a)) || want.has(keyOf('mapUsers', a))).sort();
    const restore = Object.fromEntries(kept.filter(a => adopted.get(a) !== undefined).map(a => [a, adopted.get(a)!]));
    const record: OwnerRecord = {
      stack: owner.stack,
      logicalId: owner.logicalId,
      mapRoles: list('mapRoles'),
      mapUsers: list('mapUsers'),
      adopted: kept,
      ...(Object.keys(restore).length > 0 ? { restore } : {}),
    };
    annotations[myKey] = JSON.stringify(record);
  } else {
    delete annotations[myKey];
  }
  if (legacy.length > 0) {
    // aws-eks's claim is handed over once: its label and last-applied configuration go
    delete labels[options.legacyPruneLabel!];
    delete annotations[LAST_APPLIED];
  }

  for (const section of SECTIONS) {
    const after = sections[section]!;
    // JSON is YAML, and unambiguous: YAML 1.1 readers (aws-iam-authenticator) take
    // unquoted on/no/y as booleans
    if (JSON.stringify(current[section]) !== JSON.stringify(after)) data[section] = JSON.stringify(after);
  }
  const next: ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    ...(existing ?? {}),
    metadata: {
      ...(existing?.metadata ?? { name: 'aws-auth', namespace: 'kube-system' }),
      labels: existing ? labels : { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      annotations,
    },
    data,
  };
  if (existing && JSON.stringify(existing.data ?? {}) === JSON.stringify(data)
    && JSON.stringify(existing.metadata.annotations ?? {}) === JSON.stringify(annotations)
    && JSON.stringify(existing.metadata.labels ?? {}) === JSON.stringify(labels)) {
    return undefined;
  }
  return next;
}

/**
 * Reads aws-auth, plans, and writes with the read `resourceVersion` (PUT) or creates it
 * (POST); a 409 (someone else wrote first, or created it first) re-reads and re-plans.
 * Never deletes the ConfigMap.
 */
export async function reconcileAwsAuth(
  api: KubeApi, owner: Owner, desired: AwsAuthDesired | undefined, retry: RetryOptions = {}, options: PlanOptions = {},
): Promise<void> {
  await withRetries('aws-auth', retry, async () => {
    const got = await api.request('GET', AWS_AUTH_PATH);
    if (got.status !== 200 && got.status !== 404) throw new KubeError(got.status, 'GET', AWS_AUTH_PATH, got.body);
    const existing = got.status === 200 ? got.body as ConfigMap : undefined;
    const next = planAwsAuth(existing, owner, desired, options);
    if (!next) return;
    const res = existing
      ? await api.request('PUT', AWS_AUTH_PATH, next)
      : await api.request('POST', '/api/v1/namespaces/kube-system/configmaps', next);
    if (res.status === 409) throw new Retry(`${existing ? 'PUT' : 'POST'} answered 409`);
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, existing ? 'PUT' : 'POST', AWS_AUTH_PATH, res.body);
  });
}
