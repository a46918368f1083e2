import { AwsAuthResource } from './plan-assembly';
import { AwsAuthRequest, Claim, ConfigMap, FailSafeError, StackRecord, planAwsAuth, recordKey } from '../handlers/access-reconciler/aws-auth';
import { ARN_KEY, SECTIONS, Section, SectionItem, readSection } from '../handlers/access-reconciler/aws-auth-read';
import { OWNER_ANNOTATION_PREFIX } from '../handlers/access-reconciler/protocol';

/** One line of the plan. */
export interface PlanLine {
  readonly action: 'add' | 'change' | 'adopt' | 'keep' | 'remove' | 'restore' | 'release' | 'leave';
  readonly section: Section;
  readonly arn: string;
  readonly text: string;
}

export interface PlanOutcome {
  /** How the stack's earlier writes were recognised, and which CloudFormation request the deploy is. */
  readonly request: string;
  readonly lines: PlanLine[];
  /** The reconciler's refusal, when the deploy would fail. */
  readonly refusal?: string;
  /** Whether the deploy writes aws-auth at all. */
  readonly writes: boolean;
}

const show = (username: string, groups: string[]) => `username ${JSON.stringify(username)}, groups ${JSON.stringify(groups)}`;
const key = (arn: string) => arn.toLowerCase();

/**
 * This stack's record on aws-auth, found offline: records carry the stack id
 * (`arn:…:cloudformation:<region>:<account>:stack/<name>/<uuid>`), which the synthesized app
 * does not know, so a record matches by stack name (and account and region when the app pins
 * them); among several (an earlier stack of the same name), the one whose instance has the
 * resource's logical id.
 */
export function findOwnRecord(existing: ConfigMap | undefined, resource: AwsAuthResource): StackRecord | undefined {
  const found: StackRecord[] = [];
  for (const [k, value] of Object.entries(existing?.metadata.annotations ?? {})) {
    if (!k.startsWith(OWNER_ANNOTATION_PREFIX)) continue;
    let record: any;
    try {
      record = JSON.parse(value);
    } catch {
      continue;
    }
    const id = /^arn:[^:]+:cloudformation:([^:]*):([^:]*):stack\/([^/]+)\/[^/]+$/.exec(String(record?.stack ?? ''));
    if (record?.v !== 2 || !id || id[3] !== resource.stackName) continue;
    if ((resource.region && id[1] !== resource.region) || (resource.account && id[2] !== resource.account)) continue;
    if (recordKey(record.stack) !== k) continue;
    found.push(record as StackRecord);
  }
  return found.find(r => r.current?.logicalId === resource.logicalId) ?? found[0];
}

function exact(items: SectionItem[], arn: string): SectionItem | undefined {
  return items.filter(i => i.valid && i.arn !== '' && key(i.arn) === key(arn)).pop();
}

/** What the next deploy of `resource` does to `existing` (undefined: no aws-auth yet), computed by the reconciler's `planAwsAuth`. */
export function planDeploy(existing: ConfigMap | undefined, resource: AwsAuthResource, partition: string): PlanOutcome {
  const record = findOwnRecord(existing, resource);
  let request: AwsAuthRequest;
  let how: string;
  if (record && record.current.logicalId === resource.logicalId) {
    request = { requestType: 'Update', rollback: false, owner: { id: record.current.id, stack: record.stack, logicalId: resource.logicalId }, desired: resource.desired };
    how = `an Update of the instance that wrote last (its record names stack ${record.stack} and logical id ${resource.logicalId})`;
  } else {
    // a stack id this stack never had: a record of an earlier stack of the same name is another stack's, as on a real Create
    const stack = record?.stack
      ?? `arn:${partition}:cloudformation:${resource.region ?? 'unknown'}:${resource.account ?? 'unknown'}:stack/${resource.stackName}/cdk-eks-access-plan`;
    request = {
      requestType: 'Create',
      owner: { id: `${resource.logicalId}-cdk-eks-access-plan`, stack, logicalId: resource.logicalId },
      desired: resource.desired,
      ...(resource.legacyPruneLabel ? { legacyPruneLabel: resource.legacyPruneLabel } : {}),
    };
    how = record
      ? `a Create under a new logical id (the record of stack ${record.stack} names ${record.current.logicalId}): it takes over that instance's entries`
      : `a Create: no record of stack ${resource.stackName} on aws-auth, so nothing there is this stack's yet`;
  }
  if (record && request.requestType === 'Update' && resource.legacyPruneLabel) {
    request = { ...request, legacyPruneLabel: resource.legacyPruneLabel };
  }

  let after: ConfigMap | undefined;
  try {
    after = planAwsAuth(existing, request);
  } catch (e) {
    if (e instanceof FailSafeError) return { request: how, lines: [], refusal: e.message, writes: false };
    throw e;
  }
  const result = after ?? existing;
  const before: Record<Section, SectionItem[]> = { mapRoles: [], mapUsers: [] };
  const now: Record<Section, SectionItem[]> = { mapRoles: [], mapUsers: [] };
  for (const s of SECTIONS) {
    before[s] = readSection(s, existing?.data?.[s]).items;
    now[s] = readSection(s, result?.data?.[s]).items;
  }
  const recordAfter = (() => {
    try {
      return JSON.parse(result?.metadata.annotations?.[recordKey(request.owner.stack)] ?? 'null') as StackRecord | null;
    } catch {
      return null;
    }
  })();
  const claimsAfter = new Map<string, Claim>((recordAfter?.current.claims ?? []).map(c => [key(c.arn), c]));
  const held = new Map<string, Claim>((record?.current.claims ?? []).map(c => [key(c.arn), c]));

  const lines: PlanLine[] = [];
  const touched = new Set<string>();
  for (const s of SECTIONS) {
    for (const e of resource.desired[s]) {
      const arn = e[ARN_KEY[s]]!;
      touched.add(key(arn));
      const was = exact(before[s], arn);
      const is = exact(now[s], arn);
      const later = resource.deployTimeArns.has(key(arn)) ? ' (ARN known at deploy time)' : '';
      const want = show(e.username ?? '', e.groups ?? []);
      if (!was) {
        lines.push({ action: 'add', section: s, arn, text: `${want}${later}` });
      } else if (is && (is.username !== was.username || JSON.stringify(is.groups) !== JSON.stringify(was.groups))) {
        lines.push({ action: 'change', section: s, arn, text: `${show(was.username, was.groups)} -> ${show(is.username, is.groups)}` });
      } else if (held.has(key(arn))) {
        lines.push({ action: 'keep', section: s, arn, text: `${want} (this stack's, unchanged)` });
      } else {
        const claim = claimsAfter.get(key(arn));
        const taken = claim?.how === 'takenOver' ? 'taken over from aws-eks\'s earlier manifest of this stack' : 'an identical entry is there: kept as it is when the stack lets go';
        lines.push({ action: 'adopt', section: s, arn, text: `${want} (${taken})` });
      }
    }
  }
  for (const [k, c] of held) {
    if (touched.has(k)) continue;
    touched.add(k);
    const was = exact(before[c.section], c.arn);
    const is = exact(now[c.section], c.arn);
    if (was && !is) {lines.push({ action: 'remove', section: c.section, arn: c.arn, text: `${show(was.username, was.groups)} (${c.how} by this stack, no longer granted)` });} else if (was && is && (was.username !== is.username || JSON.stringify(was.groups) !== JSON.stringify(is.groups))) {
      lines.push({ action: 'restore', section: c.section, arn: c.arn, text: `put back as it was found: ${show(is.username, is.groups)}` });
    } else if (was) {lines.push({ action: 'release', section: c.section, arn: c.arn, text: `${show(was.username, was.groups)} (${c.how}; no longer granted, left as it was found)` });}
  }
  for (const s of SECTIONS) {
    for (const item of before[s]) {
      if (item.arn !== '' && touched.has(key(item.arn))) continue;
      const who = item.arn !== '' ? item.arn : `sso ${item.sso?.permissionSetName ?? '?'} (account ${item.sso?.accountID ?? '?'})`;
      lines.push({ action: 'leave', section: s, arn: who, text: item.valid ? show(item.username, item.groups) : 'ignored by aws-iam-authenticator' });
    }
  }
  return { request: how, lines, writes: after !== undefined };
}
