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
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: false });
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

/**
 * The ConfigMap after `owner` writes `desired` over `existing` (undefined: absent), or
 * undefined when nothing changes. Pure: the tests drive it directly.
 *
 * - Entries that no owner claims (node roles, eksctl, hand edits) are kept as they are,
 *   in place. If one has the ARN of a desired entry and the same username and groups,
 *   it is adopted (and never removed by this owner); if it differs, that is refused.
 * - Entries another owner of the same stack claims (the resource before CloudFormation
 *   replaced it) are taken over; another stack's are refused.
 * - Entries this owner claimed before and no longer wants are removed, unless adopted.
 * - A result with two entries for one ARN is refused.
 */
export function planAwsAuth(existing: ConfigMap | undefined, owner: Owner, desired: AwsAuthDesired | undefined): ConfigMap | undefined {
  if (!existing && !desired) return undefined;
  const annotations = { ...(existing?.metadata.annotations ?? {}) };
  const owners = parseOwners(annotations);
  const mine = owners.get(owner.id);
  owners.delete(owner.id);
  const previous = new Set(mine ? ownedKeys(mine) : []);
  const adopted = new Set(mine?.adopted.map(a => a.toLowerCase()) ?? []);

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

  // Claims of other owners: the same stack's are taken over, another stack's are refused.
  const claimedBy = new Map<string, string>();
  for (const [id, record] of owners) for (const key of ownedKeys(record)) claimedBy.set(key, id);
  const changedOwners = new Set<string>();
  for (const [key, { entry }] of want) {
    const other = claimedBy.get(key);
    if (other === undefined) continue;
    const record = owners.get(other)!;
    const arn = (entry.rolearn ?? entry.userarn)!;
    if (record.stack !== owner.stack) {
      throw new FailSafeError(`${arn} is already granted in aws-auth by ${describeOwner(other, record)}; one principal can have only one aws-auth entry (aws-iam-authenticator keeps one of them). Nothing was written. Grant it in one stack only.`);
    }
    const strip = (list: string[]) => list.filter(a => a.toLowerCase() !== arn.toLowerCase());
    if (record.adopted.some(a => a.toLowerCase() === arn.toLowerCase())) adopted.add(arn.toLowerCase());
    owners.set(other, { ...record, mapRoles: strip(record.mapRoles), mapUsers: strip(record.mapUsers), adopted: strip(record.adopted) });
    claimedBy.delete(key);
    previous.add(key);
    changedOwners.add(other);
  }

  const data = { ...(existing?.data ?? {}) };
  const sections: Partial<Record<Section, Array<Record<string, unknown>>>> = {};
  for (const section of SECTIONS) {
    const current = parseSection(section, data[section]);
    const out: Array<Record<string, unknown>> = [];
    const placed = new Set<string>();
    for (const item of current) {
      const key = keyOf(section, item[ARN_KEY[section]] as string);
      const wanted = want.get(key);
      const arnLower = (item[ARN_KEY[section]] as string).toLowerCase();
      if (previous.has(key) && !claimedBy.has(key)) {
        // ours: rewrite in place, or drop (unless it was there before us)
        if (wanted && !placed.has(key)) {
          out.push({ ...wanted.entry });
          placed.add(key);
        } else if (!wanted && adopted.has(arnLower)) {
          out.push(item);
        }
        continue;
      }
      if (wanted && !placed.has(key) && !claimedBy.has(key)) {
        if (!sameEntry(item, wanted.entry)) {
          throw new FailSafeError(`aws-auth already maps ${item[ARN_KEY[section]]} (username ${JSON.stringify(item.username)}, groups ${JSON.stringify(item.groups)}) and this library did not write that entry; this stack wants username ${JSON.stringify(wanted.entry.username)}, groups ${JSON.stringify(wanted.entry.groups)}. Two entries for one ARN would drop one of them. Nothing was written. Remove that entry (eksctl delete iamidentitymapping, or kubectl -n kube-system edit configmap aws-auth) or drop the grant.`);
        }
        adopted.add(arnLower);
        out.push(item);
        placed.add(key);
        continue;
      }
      out.push(item);
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

  for (const id of changedOwners) annotations[OWNER_ANNOTATION_PREFIX + id] = JSON.stringify(owners.get(id));
  const myKey = OWNER_ANNOTATION_PREFIX + owner.id;
  if (desired) {
    const list = (section: Section) => Array.from(want.values()).filter(w => w.section === section).map(w => (w.entry[ARN_KEY[section]])!);
    const record: OwnerRecord = {
      stack: owner.stack,
      logicalId: owner.logicalId,
      mapRoles: list('mapRoles'),
      mapUsers: list('mapUsers'),
      adopted: Array.from(adopted).filter(a => want.has(keyOf('mapRoles', a)) || want.has(keyOf('mapUsers', a))).sort(),
    };
    annotations[myKey] = JSON.stringify(record);
  } else {
    delete annotations[myKey];
  }

  for (const section of SECTIONS) {
    const before = parseSection(section, existing?.data?.[section]);
    const after = sections[section]!;
    if (JSON.stringify(before) !== JSON.stringify(after)) data[section] = after.length === 0 ? '[]\n' : YAML.stringify(after);
  }
  const next: ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    ...(existing ?? {}),
    metadata: {
      ...(existing?.metadata ?? { name: 'aws-auth', namespace: 'kube-system', labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } }),
      annotations,
    },
    data,
  };
  if (existing && JSON.stringify(existing.data ?? {}) === JSON.stringify(data)
    && JSON.stringify(existing.metadata.annotations ?? {}) === JSON.stringify(annotations)) {
    return undefined;
  }
  return next;
}

/**
 * Reads aws-auth, plans, and writes with the read `resourceVersion` (PUT) or creates it
 * (POST); a 409 (someone else wrote first, or created it first) re-reads and re-plans.
 * Never deletes the ConfigMap.
 */
export async function reconcileAwsAuth(api: KubeApi, owner: Owner, desired: AwsAuthDesired | undefined, retry: RetryOptions = {}): Promise<void> {
  await withRetries('aws-auth', retry, async () => {
    const got = await api.request('GET', AWS_AUTH_PATH);
    if (got.status !== 200 && got.status !== 404) throw new KubeError(got.status, 'GET', AWS_AUTH_PATH, got.body);
    const existing = got.status === 200 ? got.body as ConfigMap : undefined;
    const next = planAwsAuth(existing, owner, desired);
    if (!next) return;
    const res = existing
      ? await api.request('PUT', AWS_AUTH_PATH, next)
      : await api.request('POST', '/api/v1/namespaces/kube-system/configmaps', next);
    if (res.status === 409) throw new Retry(`${existing ? 'PUT' : 'POST'} answered 409`);
    if (res.status < 200 || res.status >= 300) throw new KubeError(res.status, existing ? 'PUT' : 'POST', AWS_AUTH_PATH, res.body);
  });
}
