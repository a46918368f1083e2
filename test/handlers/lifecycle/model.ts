// eslint-disable-next-line import/no-extraneous-dependencies
import * as YAML from 'yaml';
import { GO_YAML_V2, Identity, Section, load, resolve } from './authenticator';
import { ClusterView, Oracle } from './oracle';
import {
  ACCOUNT, CLUSTER, KUBECTL_ROLE, KubeObject, LAST_APPLIED, LEGACY_PRUNE_LABEL, MANAGED_BY, NODE_ROLES, NodeGroup, POOL, SSO_ROLE, Version,
  VersionSpec, buildVersion, objectKey, objectPath,
} from './versions';
import { FailSafeError } from '../../../src/handlers/access-reconciler/aws-auth';
import { DispatchContext, Event, dispatch } from '../../../src/handlers/access-reconciler/index';
import { HttpKubeApi, KubeApi, KubeResponse, RetryOptions } from '../../../src/handlers/access-reconciler/kube';
import { AWS_AUTH_RESOURCE_TYPE, NAMESPACES_RESOURCE_TYPE, RBAC_RESOURCE_TYPE } from '../../../src/handlers/access-reconciler/protocol';
import { eksToken } from '../../../src/handlers/access-reconciler/token';
import { FakeKube, touch } from '../fake-kube';

/**
 * The lifecycle model: CloudFormation stack operations over stack versions, the CDK
 * provider framework in front of the reconciler handler, aws-eks's kubectl handler for
 * its own manifests, EKS and foreign writers between steps, and faults on the wire.
 */

export const AWS_AUTH_PATH = '/api/v1/namespaces/kube-system/configmaps/aws-auth';
export const AWS_EKS_MANIFEST_TYPE = 'Custom::AWSCDK-EKS-KubernetesResource';
/** What the provider framework answers a failed Create with (aws-cdk-lib custom-resources/lib/provider-framework/runtime). */
export const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';
export const RETRY: RetryOptions = { attempts: 6, baseDelayMs: 1, maxDelayMs: 5 };
export const STACK_NAME = 'App';
export const OTHER_STACK = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/Other/22222222-aaaa-bbbb-cccc-000000000002`;
export const HANDOVER = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cdk-eks-access-aws-auth-handover', namespace: 'kube-system', labels: { ...MANAGED_BY } },
  data: { note: 'aws-auth is written by the cdk-eks-access reconciler' },
};

/** README, "The sweep": a claim of a logical id CloudFormation does not list is released once 15 minutes old. */
const GONE_CLAIM_MIN_AGE = 15 * 60_000;

export type FaultKind = 'throw-before' | 'lost-throw' | 'lost-500' | 'down' | '409' | '429' | '503' | '500' | 'lost-then-down';
export interface FaultSpec {
  /** Which handler invocation of the operation (0-based). */
  readonly invocation: number;
  readonly kind: FaultKind;
  /** Which request (throw-before, down, 429/5xx) or which write (lost-*, 409) of that invocation. */
  readonly at: number;
}
export type ForeignWrite =
  | 'eksctl' | 'eksctl-dup' | 'hand-comment' | 'hand-date' | 'placeholder-users' | 'other-stack' | 'sso-ops' | 'sso-dev'
  | { readonly conflict: number };

export interface OpSpec {
  readonly kind: 'deploy' | 'delete';
  readonly version?: VersionSpec;
  /** A resource that is not the reconciler's fails at this position of the changes (modulo their count + 1). */
  readonly failAt?: number;
  readonly statusKnown: boolean;
  /**
   * Whether the handler can read the stack's resources (ListStackResources) in this
   * operation. @default false (the regressions written before the handler could)
   */
  readonly resourcesKnown?: boolean;
  /**
   * The operation starts a minute after the previous one ends, not an hour: claims a lost
   * create left in the previous operation are then younger than GONE_CLAIM_MIN_AGE.
   * @default false
   */
  readonly soon?: boolean;
  readonly faults: FaultSpec[];
  /** Handler invocations delivered twice. */
  readonly repeat: number[];
  /** Written before the operation. */
  readonly foreign: ForeignWrite[];
}

export interface Scenario {
  /** The stack's first version: the reconciler already, plain aws-eks's aws-auth, or the previous release (aws-eks aws-auth + RBAC manifests). */
  readonly start: 'fresh' | 'aws-eks' | 'previous-release';
  readonly nodeGroups: NodeGroup[];
  readonly ops: OpSpec[];
}

interface ResourceDecl {
  readonly logicalId: string;
  readonly type: string;
  readonly props: Record<string, any>;
  /** DeletionPolicy Retain: CloudFormation removes it without a Delete. */
  readonly retain?: boolean;
}
interface LiveResource extends ResourceDecl {
  physicalId: string;
}

export interface Stats {
  sequences: number;
  operations: number;
  invocations: number;
  faults: number;
  /** Racing writes by another client right before one of the handler's writes (the 409 fault). */
  races: number;
  /** 409 answers the API server gave the handler. */
  conflicts: number;
  foreignWrites: number;
  rollbacks: number;
  /** Observations excused as known gaps (see Oracle.staleOwned). */
  knownGaps: number;
  /** Reads of the stack's resource list by the handler (it reads it only when it sees a claim of another logical id of the stack). */
  listings: number;
  /** Stale claims an RBAC event released, judged from then on like any other (see Oracle.staleReleased). */
  staleReleased: number;
}
export const STATS: Stats = {
  sequences: 0,
  operations: 0,
  invocations: 0,
  faults: 0,
  races: 0,
  conflicts: 0,
  foreignWrites: 0,
  rollbacks: 0,
  knownGaps: 0,
  listings: 0,
  staleReleased: 0,
};

const CONNECTION = { ClusterName: CLUSTER, RoleArn: KUBECTL_ROLE };

function legacyAwsAuth(v: Version): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', labels: { [LEGACY_PRUNE_LABEL]: '' } },
    data: { mapRoles: JSON.stringify(v.mapRoles), mapUsers: JSON.stringify(v.mapUsers), mapAccounts: '[]' },
  };
}

/** The resources of a version, in CloudFormation's (deterministic) order. */
export function resourcesOf(v: Version): ResourceDecl[] {
  if (v.era !== 'reconciler') {
    const out: ResourceDecl[] = [{ logicalId: 'AwsAuthManifest', type: AWS_EKS_MANIFEST_TYPE, props: { ...CONNECTION, Manifest: JSON.stringify([legacyAwsAuth(v)]), PruneLabel: LEGACY_PRUNE_LABEL, Overwrite: true } }];
    if (v.era === 'previous-release' && v.rbac.length > 0) {
      const objs = [...v.namespaces.map(n => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } })), ...v.rbac.flatMap(c => c.objects)];
      // assumption: retained on removal (see the README of this folder); the reconciler takes its objects over
      out.push({ logicalId: 'PreviousReleaseRbac', type: AWS_EKS_MANIFEST_TYPE, props: { ...CONNECTION, Manifest: JSON.stringify(objs) }, retain: true });
    }
    return out;
  }
  const out: ResourceDecl[] = [
    { logicalId: 'AwsAuthManifest', type: AWS_EKS_MANIFEST_TYPE, props: { ...CONNECTION, Manifest: JSON.stringify([HANDOVER]) }, retain: true },
    {
      logicalId: v.awsAuthLogicalId,
      type: AWS_AUTH_RESOURCE_TYPE,
      props: {
        ...CONNECTION,
        ClusterName: v.clusterName,
        MapRoles: v.mapRoles,
        MapUsers: v.mapUsers,
        ...(v.legacyPruneLabel ? { LegacyPruneLabel: v.legacyPruneLabel } : {}),
      },
    },
  ];
  if (v.namespaces.length > 0) out.push({ logicalId: 'Namespaces', type: NAMESPACES_RESOURCE_TYPE, props: { ...CONNECTION, ClusterName: v.clusterName, Namespaces: v.namespaces } });
  for (const c of v.rbac) {
    out.push({ logicalId: c.logicalId, type: RBAC_RESOURCE_TYPE, props: { ...CONNECTION, ClusterName: v.clusterName, Objects: c.objects } });
  }
  return out;
}

/** A KubeApi that injects one fault into one invocation. */
export class FaultyApi implements KubeApi {
  private requests = 0;
  private writes = 0;
  public injected = false;
  public raced = false;
  private down = false;
  /** `race` writes the object at `path` as another client would, and says whether there was one to write. */
  constructor(
    private readonly inner: KubeApi,
    private readonly fault: FaultSpec | undefined,
    private readonly race: (path: string) => boolean | void,
  ) {}

  public async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<KubeResponse> {
    const i = this.requests++;
    const w = method === 'GET' ? -1 : this.writes++;
    const f = this.fault;
    if (f) {
      if (f.kind === 'down' && i >= f.at) return this.hit(() => { throw Object.assign(new Error('connect ECONNREFUSED (injected: the connection stays down)'), { code: 'ECONNREFUSED' }); });
      if (f.kind === 'throw-before' && i === f.at) return this.hit(() => { throw Object.assign(new Error('socket hang up (injected before the server)'), { code: 'ECONNRESET' }); });
      if ((f.kind === '429' || f.kind === '503' || f.kind === '500') && i === f.at) {
        const code = Number(f.kind);
        return this.hit(() => ({
          status: code,
          body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: code === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: `injected ${code}`, details: { retryAfterSeconds: 0 } },
        }));
      }
      if (f.kind === '409' && w === f.at && method !== 'POST') {
        this.injected = true;
        // a race that wrote nothing (no object there) leaves the refusal check on
        this.raced = this.race(path) !== false;
      }
      if (f.kind === 'lost-then-down' && this.down) return this.hit(() => { throw Object.assign(new Error('connect ECONNREFUSED (injected: down since the lost answer)'), { code: 'ECONNREFUSED' }); });
      if (f.kind === 'lost-then-down' && w === f.at) {
        await this.inner.request(method, path, body);
        this.down = true;
        return this.hit(() => { throw Object.assign(new Error('socket hang up (injected: the write landed, the answer was lost, the connection stays down)'), { code: 'ECONNRESET' }); });
      }
      if ((f.kind === 'lost-throw' || f.kind === 'lost-500') && w === f.at) {
        await this.inner.request(method, path, body);
        return this.hit(() => {
          if (f.kind === 'lost-throw') throw Object.assign(new Error('socket hang up (injected: the write landed, the answer was lost)'), { code: 'ECONNRESET' });
          return { status: 500, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, message: 'injected 500 after the write' } };
        });
      }
    }
    return this.inner.request(method, path, body);
  }

  private hit(f: () => KubeResponse): Promise<KubeResponse> {
    this.injected = true;
    try {
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

let token: Promise<string> | undefined;

export function httpApi(kube: FakeKube): KubeApi {
  token ??= eksToken({ clusterName: CLUSTER, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' } });
  return { request: async (method, path, body) => new HttpKubeApi({ endpoint: kube.endpoint, token: await token! }).request(method, path, body) };
}

function isSkippable(text: string | undefined) {
  const t = (text ?? '').trim();
  return t === '' || t === '""' || t === '``';
}

/** Thrown when the model cannot go on (the stack is stuck even without faults). */
export class Stuck extends Error {}

/** One stack in one cluster, driven through its operations. */
export class World {
  public readonly oracle: Oracle;
  public readonly log: string[] = [];
  public stackId: string | undefined;
  private stackGeneration = 0;
  private readonly resources = new Map<string, LiveResource>();
  public lastGood: Version | undefined;
  public legacy: Version | undefined;
  private status = '';
  private statusKnown = true;
  private resourcesKnown = false;
  /** Virtual time (ms), given to the handler as its clock: an hour between operations (a minute when `soon`), a second per invocation. */
  private clock = Date.UTC(2026, 0, 1);
  /**
   * The stack's resources as CloudFormation's ListStackResources answers them: every logical
   * id from the start of its create (CREATE_IN_PROGRESS) until its delete, in any status;
   * a resource removed from the template stays until the cleanup deletes it, a replaced
   * one keeps its logical id, a failed create stays until the rollback deletes it.
   */
  private readonly listed = new Map<string, { type: string; status: string }>();
  private op: OpSpec | undefined;
  /** In this operation, a failed create could not reach the cluster to take its writes back. */
  private unreachableCleanup = false;
  /**
   * The logical id of a create of the aws-auth resource whose write may have landed and whose own
   * cleanup could not reach the cluster (an instance CloudFormation never had). Until an event shows
   * that (an update of the resource, a create of that logical id again, the delete of an instance in
   * the cleanup after a successful update), no handler can tell it from a live instance that a
   * replacement may still hand back to: with the stack's status unknown at its delete, what it wrote
   * may stay (inherent: README "The reconciler", known gaps).
   */
  private lostAwsAuthCreate: string | undefined;
  /** The ARNs (lower-cased) that the lost create of `lostAwsAuthCreate` took away: resolved before it, to nothing after it. */
  private lostAwsAuthRevoked = new Set<string>();
  private invocation = 0;
  private request = 0;
  private readonly api: KubeApi;
  private unrelatedWritten = false;

  /** Every aws-auth `data` the oracle read, as JSON (on the real backend, each is also read by the real authenticator). */
  public readonly awsAuthSeen = new Set<string>();

  public readonly view: ClusterView = {
    awsAuthData: () => {
      const data = this.kube.get(AWS_AUTH_PATH)?.data;
      if (data) this.awsAuthSeen.add(JSON.stringify(data));
      return data;
    },
    get: path => this.kube.get(path),
    namespaces: () => this.kube.namespaces(),
  };
  constructor(public readonly kube: FakeKube, public readonly nodeGroups: NodeGroup[]) {
    this.oracle = new Oracle(nodeGroups);
    this.api = httpApi(kube);
  }


  // ---------- writers that are not the product ----------

  private awsAuth(): any {
    return this.kube.get(AWS_AUTH_PATH);
  }

  private putAwsAuth(data: Record<string, string>) {
    const cm = this.awsAuth();
    this.kube.put(AWS_AUTH_PATH, cm ? { ...cm, data } : { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data });
  }

  /** Appends a YAML block item to a section; a flow (JSON) section is first rewritten as a block list, as eksctl does. */
  private appendYaml(section: Section, block: string) {
    const data = { ...(this.awsAuth()?.data ?? {}) };
    let text: string = data[section] ?? '';
    if (isSkippable(text)) {text = '';} else if (!/^\s*-/.test(text)) {
      const entries = YAML.parse(text, GO_YAML_V2) ?? [];
      text = entries.length > 0 ? YAML.stringify(entries, GO_YAML_V2) : '';
    }
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    data[section] = text + block + '\n';
    this.putAwsAuth(data);
    this.oracle.rebaseline(this.view);
  }

  /** The ARNs (lower case) that records of other stack ids on aws-auth hold (an earlier stack of this name included). */
  private otherStacksClaims(): Set<string> {
    const out = new Set<string>();
    for (const [k, v] of Object.entries(this.kube.get(AWS_AUTH_PATH)?.metadata?.annotations ?? {})) {
      if (!k.startsWith('owner.cdk-eks-access.io/')) continue;
      let record: any;
      try {
        record = JSON.parse(v as string);
      } catch {
        continue;
      }
      if (record?.stack === this.stackId) continue;
      for (const g of [record?.current, record?.previous]) for (const c of g?.claims ?? []) out.add(String(c.arn).toLowerCase());
    }
    return out;
  }

  /** What a user does about a justified refusal: removes the hand-made second entries for the stack's principals. */
  private removeConflicts(): boolean {
    const conflicts = this.oracle.protectedEntries.filter(p => p.writer.startsWith('a hand edit (conflict') || p.sso);
    if (conflicts.length === 0) return false;
    const data = { ...(this.awsAuth()?.data ?? {}) };
    for (const p of conflicts) {
      data[p.section] = (data[p.section] ?? '').replace(`${p.text}\n`, '');
      this.oracle.protectedEntries.splice(this.oracle.protectedEntries.indexOf(p), 1);
      this.oracle.conflicted.clear();
    }
    this.putAwsAuth(data);
    this.oracle.rebaseline(this.view);
    return true;
  }

  private foreignEntry(section: Section, arn: string, value: Identity, writer: string, block: string, sso = false) {
    this.appendYaml(section, block);
    this.oracle.protect({ section, arn, value, text: block, writer, sso });
  }

  /** EKS writes the node role of a managed node group into aws-auth (YAML, as EKS does). */
  public eksWritesNodeRole(n: NodeGroup) {
    const e = NODE_ROLES[n];
    const block = `- groups:\n${e.groups.map(g => `  - ${g}\n`).join('')}  rolearn: ${e.rolearn}\n  username: ${e.username}`;
    this.foreignEntry('mapRoles', e.rolearn, { username: e.username, groups: [...e.groups] }, `EKS (${n} node group)`, block);
    this.log.push(`EKS writes the ${n} node role`);
  }

  public async foreign(w: ForeignWrite) {
    STATS.foreignWrites++;
    const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
    if (typeof w === 'object') {
      const p = POOL[w.conflict];
      const section: Section = p.kind === 'role' ? 'mapRoles' : 'mapUsers';
      const k = p.kind === 'role' ? 'rolearn' : 'userarn';
      this.oracle.conflicted.add(p.arn.toLowerCase());
      this.foreignEntry(section, p.arn, { username: 'by-hand', groups: ['hand-made'] }, `a hand edit (conflict on ${p.arn})`, `- ${k}: ${p.arn}\n  username: by-hand\n  groups:\n    - hand-made`);
    } else if (w === 'eksctl') {
      this.foreignEntry('mapRoles', role('EksctlRole'), { username: 'eksctl-user', groups: ['eksctl-group'] }, 'eksctl', `- groups:\n  - eksctl-group\n  rolearn: ${role('EksctlRole')}\n  username: eksctl-user`);
    } else if (w === 'eksctl-dup') {
      const block = `- groups:\n  - unrelated\n  rolearn: ${role('Unrelated')}\n  username: unrelated`;
      for (let i = 0; i < (this.unrelatedWritten ? 1 : 2); i++) this.foreignEntry('mapRoles', role('Unrelated'), { username: 'unrelated', groups: ['unrelated'] }, 'eksctl (duplicate ARN)', block);
      this.unrelatedWritten = true;
    } else if (w === 'hand-comment') {
      this.foreignEntry('mapRoles', role('HandAdded'), { username: 'hand', groups: ['viewers'] }, 'a hand edit with comments',
        `- rolearn: ${role('HandAdded')} # ticket OPS-1234\n  # read-only for the on-call team\n  username: hand\n  groups:\n    - viewers`);
    } else if (w === 'hand-date') {
      this.foreignEntry('mapRoles', role('Dated'), { username: '2024-01-02', groups: ['1:30', 'on-call'] }, 'a hand edit (date, 1:30)',
        `- rolearn: ${role('Dated')}\n  username: 2024-01-02\n  groups:\n    - 1:30\n    - on-call`);
    } else if (w === 'placeholder-users') {
      const data = { ...(this.awsAuth()?.data ?? {}) };
      if (!isSkippable(data.mapUsers)) return;
      data.mapUsers = '""\n';
      this.putAwsAuth(data);
    } else if (w === 'sso-ops' || w === 'sso-dev') {
      const set = w === 'sso-ops' ? 'Ops' : 'Dev';
      if (set === 'Dev') this.oracle.conflicted.add(SSO_ROLE.toLowerCase());
      this.foreignEntry('mapRoles', `arn:aws:iam::${ACCOUNT}:role/awsreservedsso_${set}_*`, { username: `sso-${set.toLowerCase()}:{{SessionName}}`, groups: [`sso-${set.toLowerCase()}`] }, `a hand-written sso: mapping (${set})`,
        `- sso:\n    permissionSetName: ${set}\n    accountID: "${ACCOUNT}"\n  username: sso-${set.toLowerCase()}:{{SessionName}}\n  groups:\n    - sso-${set.toLowerCase()}`, true);
    } else if (w === 'other-stack') {
      const entry = { rolearn: role('OtherTeam'), username: 'role:OtherTeam:{{SessionName}}', groups: ['other-team'] };
      try {
        await dispatch({
          RequestType: 'Create',
          ResourceType: AWS_AUTH_RESOURCE_TYPE,
          StackId: OTHER_STACK,
          RequestId: `other-${this.log.length}`,
          LogicalResourceId: 'OtherAwsAuth',
          ResourceProperties: { ServiceToken: 'x', ...CONNECTION, MapRoles: [entry], MapUsers: [] },
        }, this.api, RETRY, {});
        if (!this.oracle.protectedEntries.some(p => p.writer === 'another stack')) this.oracle.protect({ section: 'mapRoles', arn: entry.rolearn, value: entry, writer: 'another stack' });
      } catch {
        // refused (its own business): nothing of it to protect
      }
    }
    this.log.push(`foreign write: ${JSON.stringify(w)}`);
    this.oracle.observe(this.view, `after foreign write ${JSON.stringify(w)}`);
  }

  // ---------- aws-eks's kubectl handler, for its own manifests ----------

  private kubectlApply(objs: KubeObject[]) {
    for (const obj of objs) {
      const path = objectPath(obj);
      const live = this.kube.get(path);
      const applied = JSON.stringify(obj);
      if (!live) {
        this.kube.put(path, { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), [LAST_APPLIED]: applied } } });
        continue;
      }
      if (obj.kind === 'Namespace') continue;
      // three-way merge: keys the last applied configuration had and this one has not are removed; the rest of live stays
      let last: KubeObject = {};
      try {
        last = JSON.parse(live.metadata.annotations?.[LAST_APPLIED] ?? '{}');
      } catch { /* none */ }
      const merge = (liveMap: Record<string, any> = {}, lastMap: Record<string, any> = {}, next: Record<string, any> = {}) => {
        const out = { ...liveMap };
        for (const k of Object.keys(lastMap)) if (!(k in next)) delete out[k];
        return { ...out, ...next };
      };
      const { metadata: _lm, ...liveRest } = live;
      const { metadata: _om, ...objRest } = obj;
      this.kube.put(path, {
        ...liveRest,
        ...objRest,
        ...(obj.data || live.data ? { data: merge(live.data, last.data, obj.data) } : {}),
        metadata: {
          ...live.metadata,
          labels: merge(live.metadata.labels, last.metadata?.labels, obj.metadata.labels),
          annotations: { ...(live.metadata.annotations ?? {}), [LAST_APPLIED]: applied },
        },
      });
    }
    this.oracle.rebaseline(this.view);
  }

  private kubectlDelete(objs: KubeObject[]) {
    for (const obj of objs) if (obj.kind !== 'Namespace') this.kube.store.delete(objectPath(obj));
    this.oracle.rebaseline(this.view);
  }

  // ---------- the provider framework in front of the handler ----------

  private context(): DispatchContext {
    const status = this.status;
    const at = this.clock;
    return {
      now: () => at,
      ...(this.statusKnown ? { stackStatus: async () => status } : {}),
      ...(this.resourcesKnown ? {
        stackResources: async () => {
          STATS.listings++;
          return Array.from(this.listed, ([logicalId, r]) => ({ logicalId, ...r }));
        },
      } : {}),
    };
  }

  private list(decl: ResourceDecl, status: string) {
    this.listed.set(decl.logicalId, { type: decl.type, status });
  }

  /** One CloudFormation request to one resource, through the provider framework. */
  private async call(requestType: Event['RequestType'], decl: ResourceDecl, physicalId?: string, oldProps?: Record<string, any>, clean = false): Promise<{ ok: boolean; physicalId: string; error?: Error }> {
    const verb = requestType.toUpperCase();
    this.list(decl, `${verb}_IN_PROGRESS`);
    const r = await this.deliver(requestType, decl, physicalId, oldProps, clean);
    this.list(decl, `${verb}_${r.ok ? 'COMPLETE' : 'FAILED'}`);
    return r;
  }

  private async deliver(requestType: Event['RequestType'], decl: ResourceDecl, physicalId?: string, oldProps?: Record<string, any>, clean = false): Promise<{ ok: boolean; physicalId: string; error?: Error }> {
    const step = `${this.status} ${requestType} ${decl.logicalId}${physicalId ? ` (${physicalId.slice(0, 8)})` : ''}`;
    if (decl.type === AWS_EKS_MANIFEST_TYPE) {
      const objs = JSON.parse(decl.props.Manifest) as KubeObject[];
      if (requestType === 'Delete') this.kubectlDelete(objs);
      else this.kubectlApply(objs);
      this.log.push(`${step} [aws-eks kubectl ${requestType === 'Delete' ? 'delete' : 'apply'}]`);
      this.oracle.observe(this.view, step);
      return { ok: true, physicalId: physicalId ?? `${decl.logicalId}-manifest` };
    }
    if (requestType === 'Delete' && physicalId === CREATE_FAILED_MARKER) {
      this.log.push(`${step}: answered by the provider framework`);
      return { ok: true, physicalId };
    }
    const event: Event = {
      RequestType: requestType,
      ResourceType: decl.type,
      StackId: this.stackId!,
      RequestId: `${this.stackId!.slice(-4)}-req-${++this.request}`,
      LogicalResourceId: decl.logicalId,
      ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider', ...decl.props },
      ...(oldProps ? { OldResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider', ...oldProps } } : {}),
    };
    const index = this.invocation++;
    const deliveries = !clean && this.op?.repeat.includes(index) ? 2 : 1;
    let outcome: { ok: boolean; physicalId: string; error?: Error } = { ok: false, physicalId: CREATE_FAILED_MARKER };
    for (let d = 0; d < deliveries; d++) {
      const fault = clean || d > 0 ? undefined : this.op?.faults.find(f => f.invocation === index);
      // what the handler wrote in this invocation: its requests that the API answered with success
      const logBefore = this.kube.log.length;
      const dataBefore = this.kube.get(AWS_AUTH_PATH)?.data;
      const othersBefore = this.otherStacksClaims();
      const api = new FaultyApi(this.api, fault, path => this.race(path));
      STATS.invocations++;
      this.clock += 1_000;
      try {
        const res = await dispatch(event, api, RETRY, this.context());
        outcome = { ok: true, physicalId: res.PhysicalResourceId };
      } catch (e) {
        outcome = { ok: false, physicalId: requestType === 'Create' ? CREATE_FAILED_MARKER : physicalId!, error: e as Error };
      }
      if (api.injected) STATS.faults++;
      STATS.conflicts += this.kube.log.slice(logBefore).filter(l => l.status === 409).length;
      if (outcome.ok && decl.type === RBAC_RESOURCE_TYPE && !(api.injected && (fault!.kind === 'down' || fault!.kind === 'lost-then-down'))) {
        // every RBAC event that completes sweeps (README, "The reconciler"): its own logical
        // id's stale claims, and, with the stack's resources, those of logical ids not listed;
        // never those of another stack id (an earlier stack of the same name is another stack)
        for (const [k, lids] of Array.from(this.oracle.staleOwned)) {
          for (const [owner, formed] of Array.from(lids)) {
            const [stack, lid] = owner.split('\n');
            if (stack !== this.stackId) continue;
            const old = this.clock - formed >= GONE_CLAIM_MIN_AGE;
            if (lid === decl.logicalId || (this.resourcesKnown && !this.listed.has(lid) && old)) {
              lids.delete(owner);
              this.oracle.staleReleased++;
            }
          }
          if (lids.size === 0) this.oracle.staleOwned.delete(k);
        }
      }
      if (outcome.ok && decl.type === AWS_AUTH_RESOURCE_TYPE && (requestType === 'Update' || (requestType === 'Create' && decl.logicalId === this.lostAwsAuthCreate)
        || (requestType === 'Delete' && this.status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'))) {
        this.lostAwsAuthCreate = undefined;
      }
      const where = `${step}${d > 0 ? ' (delivered again)' : ''}${api.injected ? ` [fault ${fault!.kind}@${fault!.at}]` : ''}`;
      this.log.push(`${where}: ${outcome.ok ? `ok ${outcome.physicalId.slice(0, 8)}` : `FAILED ${outcome.error!.message.slice(0, 160)}`}`);
      if (outcome.error instanceof FailSafeError) {
        const wrote = this.kube.log.slice(logBefore).some(l => l.method !== 'GET' && l.status > 0 && l.status < 300);
        if (!api.raced && wrote) this.oracle.violations.push({ category: 'refusal-wrote', where, message: `refused (${outcome.error.message.slice(0, 120)}) but wrote` });
        if (!this.oracle.refusalJustified(decl.type, requestType, decl.props, dataBefore, othersBefore)) {
          this.oracle.violations.push({ category: 'refusal-unjustified', where, message: outcome.error.message.slice(0, 300) });
        }
      } else if (!outcome.ok && api.injected && (fault!.kind === 'down' || fault!.kind === 'lost-then-down') && requestType === 'Create') {
        // the handler's own cleanup of this create could not reach the cluster, and no Delete
        // follows a failed create: the rollback cannot restore this operation's writes; the next
        // successful operation must (checked then)
        this.unreachableCleanup = true;
        if (decl.type === AWS_AUTH_RESOURCE_TYPE) {
          this.lostAwsAuthCreate = decl.logicalId;
          // what it took away: ARNs that resolved before it and resolve to nothing after it
          const was = load(dataBefore);
          const is = load(this.kube.get(AWS_AUTH_PATH)?.data);
          const arns = [...was.roles.values(), ...was.users.values()].filter(m => !m.sso).map(m => m.key);
          const taken = arns.filter(a => resolve(was, a) !== undefined && resolve(is, a) === undefined);
          this.lostAwsAuthRevoked = new Set(taken.map(a => a.toLowerCase()));
        }
        if (decl.type === RBAC_RESOURCE_TYPE) {
          // what it claimed: the objects that carry a claim of this stack and logical id now
          for (const o of decl.props.Objects ?? []) {
            const live = this.kube.get(objectPath(o));
            const claims = Object.values<string>(live?.metadata?.annotations ?? {}).map(v => { try { return JSON.parse(v); } catch { return {}; } });
            const mine = (c: any) => c?.stack === this.stackId && c?.logicalId === decl.logicalId;
            if (!claims.some(mine)) continue;
            const k = objectKey(o);
            this.oracle.staleOwned.set(k, new Map([...this.oracle.staleOwned.get(k) ?? [], [`${this.stackId}\n${decl.logicalId}`, this.clock]]));
          }
        }
      } else if (!outcome.ok && api.injected && fault!.kind !== 'down' && fault!.kind !== 'lost-then-down') {
        this.oracle.violations.push({ category: 'transient-failed', where, message: `one ${fault!.kind} fault failed the invocation: ${outcome.error!.message.slice(0, 160)}` });
      }
      this.oracle.observe(this.view, where);
      this.oracle.noteGone(this.view);
    }
    return outcome;
  }

  /** A racing writer: eksctl adds a mapping to aws-auth, or someone touches the object, right before our write. */
  private race(path: string): boolean {
    if (path === AWS_AUTH_PATH && this.awsAuth()) {
      const role = `arn:aws:iam::${ACCOUNT}:role/Racer${this.log.length}`;
      this.foreignEntry('mapRoles', role, { username: 'racer', groups: ['racers'] }, 'eksctl (racing)', `- groups:\n  - racers\n  rolearn: ${role}\n  username: racer`);
      STATS.races++;
      return true;
    }
    const raced = touch(this.kube, path);
    if (raced) STATS.races++;
    return raced;
  }

  // ---------- CloudFormation ----------

  private setStatus(s: string) {
    this.status = s;
  }

  /** Retries a request "by the user" (continue rollback, delete again) without faults. */
  private async retried(requestType: Event['RequestType'], decl: ResourceDecl, physicalId?: string, oldProps?: Record<string, any>) {
    for (let i = 0; i < 2; i++) {
      const r = await this.call(requestType, decl, physicalId, oldProps, true);
      if (r.ok) return r;
      if (r.error instanceof FailSafeError && this.removeConflicts()) this.log.push('the user removes the hand-made entries the refusal names, as it says');
    }
    throw new Stuck(`${this.status}: ${requestType} ${decl.logicalId} still fails once the faults are gone`);
  }

  public async legacyCreate(v: Version) {
    this.legacy = v;
    await this.deploy(v, { kind: 'deploy', statusKnown: true, faults: [], repeat: [], foreign: [] });
  }

  public async run(op: OpSpec, version: Version | undefined) {
    STATS.operations++;
    this.clock += op.soon ? 60_000 : 3_600_000;
    this.log.push(`--- ${op.kind}${op.failAt !== undefined ? ` (failAt ${op.failAt})` : ''}, stack status ${op.statusKnown ? 'known' : 'unknown'} to the handler`);
    for (const w of op.foreign) await this.foreign(w);
    this.op = op;
    this.invocation = 0;
    this.statusKnown = op.statusKnown;
    this.resourcesKnown = op.resourcesKnown ?? false;
    this.oracle.statusKnown = op.statusKnown;
    if (op.kind === 'delete') return this.deleteStack();
    return this.deploy(version!, op);
  }

  private async deploy(v: Version, op: OpSpec) {
    this.op = op;
    this.invocation = 0;
    this.statusKnown = op.statusKnown;
    this.resourcesKnown = op.resourcesKnown ?? false;
    if (this.stackId === undefined) return this.create(v, op);
    return this.update(v, op);
  }

  private async create(v: Version, op: OpSpec) {
    this.stackId = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK_NAME}/00000000-0000-0000-0000-${String(++this.stackGeneration).padStart(12, '0')}`;
    // a lost create of a deleted stack (another stack id) is no instance of this one: the handler can tell
    this.lostAwsAuthCreate = undefined;
    this.setStatus('CREATE_IN_PROGRESS');
    this.oracle.declare(v, this.view);
    const decls = resourcesOf(v);
    const failAt = op.failAt === undefined ? undefined : op.failAt % (decls.length + 1);
    let failed = false;
    for (const [i, d] of decls.entries()) {
      if (failAt === i) {
        failed = true;
        this.log.push(`${this.status}: another resource fails before ${d.logicalId}`);
        break;
      }
      const r = await this.call('Create', d);
      this.resources.set(d.logicalId, { ...d, physicalId: r.physicalId });
      if (!r.ok) {
        failed = true;
        break;
      }
    }
    if (!failed && failAt === decls.length) {
      failed = true;
      this.log.push(`${this.status}: a later resource fails`);
    }
    if (!failed) {
      this.setStatus('CREATE_COMPLETE');
      this.lastGood = v;
      this.unreachableCleanup = false; // a successful operation has run the handler since
      this.oracle.adminExpected = true;
      this.oracle.claim(v);
      this.oracle.expectVersion(this.view, v, 'after the stack\'s create');
      return;
    }
    STATS.rollbacks++;
    this.setStatus('ROLLBACK_IN_PROGRESS');
    for (const r of Array.from(this.resources.values()).reverse()) {
      if (r.retain) continue;
      const res = await this.call('Delete', r, r.physicalId);
      if (!res.ok) {
        // ROLLBACK_FAILED: the user deletes the stack, which deletes what is left
        this.setStatus('DELETE_IN_PROGRESS');
        await this.retried('Delete', r, r.physicalId);
        this.setStatus('ROLLBACK_IN_PROGRESS');
      }
    }
    this.resources.clear();
    // ROLLBACK_COMPLETE: the next deploy deletes the (empty) stack and creates it anew, under a new stack id
    this.stackId = undefined;
    this.listed.clear();
    if (this.unreachableCleanup) {
      this.log.push('not judged: a failed create could not reach the cluster to take its writes back');
    } else {
      this.oracle.expectDeleted(this.view, v, false, 'after the rollback of the failed create');
    }
  }

  private async update(v: Version, op: OpSpec) {
    this.setStatus('UPDATE_IN_PROGRESS');
    this.oracle.declare(v, this.view);
    const decls = resourcesOf(v);
    const old = new Map(this.resources);
    type Change = { kind: 'Create' | 'Update'; decl: ResourceDecl; prev?: LiveResource };
    const changes: Change[] = [];
    for (const d of decls) {
      const prev = old.get(d.logicalId);
      if (!prev) changes.push({ kind: 'Create', decl: d });
      else if (prev.type !== d.type) throw new Error('type changes are not modelled');
      else if (JSON.stringify(prev.props) !== JSON.stringify(d.props)) changes.push({ kind: 'Update', decl: d, prev });
    }
    const removed = Array.from(old.values()).filter(r => !decls.some(d => d.logicalId === r.logicalId));
    const failAt = op.failAt === undefined ? undefined : op.failAt % (changes.length + 1);
    const done: Array<{ change: Change; physicalId: string }> = [];
    let failed: Change | 'other' | undefined;
    for (const [i, ch] of changes.entries()) {
      if (failAt === i) {
        failed = 'other';
        this.log.push(`${this.status}: another resource fails before ${ch.decl.logicalId}`);
        break;
      }
      const r = ch.kind === 'Create' ? await this.call('Create', ch.decl) : await this.call('Update', ch.decl, ch.prev!.physicalId, ch.prev!.props);
      if (!r.ok) {
        failed = ch;
        break;
      }
      done.push({ change: ch, physicalId: r.physicalId });
    }
    if (!failed && failAt === changes.length && changes.length > 0) {
      failed = 'other';
      this.log.push(`${this.status}: a later resource fails`);
    }
    if (!failed) {
      this.resources.clear();
      for (const d of decls) {
        const did = done.find(x => x.change.decl.logicalId === d.logicalId);
        this.resources.set(d.logicalId, { ...d, physicalId: did ? did.physicalId : old.get(d.logicalId)!.physicalId });
      }
      this.setStatus('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
      const cleanup: LiveResource[] = [];
      for (const x of [...done].reverse()) {
        if (x.change.kind === 'Update' && x.physicalId !== x.change.prev!.physicalId) cleanup.push(x.change.prev!); // replaced: the old physical id goes
      }
      for (const r of [...removed].reverse()) if (!r.retain) cleanup.push(r);
      for (const r of cleanup) await this.cleanupDelete(r);
      this.unlistDeleted(decls.map(d => d.logicalId));
      this.setStatus('UPDATE_COMPLETE');
      this.lastGood = v;
      this.unreachableCleanup = false; // a successful operation has run the handler since
      this.oracle.adminExpected = true;
      this.oracle.claim(v);
      this.oracle.expectVersion(this.view, v, 'after the stack\'s update');
      return;
    }
    STATS.rollbacks++;
    this.setStatus('UPDATE_ROLLBACK_IN_PROGRESS');
    const rollback: Array<{ decl: LiveResource; physicalId: string; failedProps: Record<string, any> }> = [];
    for (const x of done) {
      if (x.change.kind === 'Update' && x.physicalId === x.change.prev!.physicalId) rollback.push({ decl: x.change.prev!, physicalId: x.physicalId, failedProps: x.change.decl.props });
    }
    if (failed !== 'other' && failed.kind === 'Update') rollback.push({ decl: failed.prev!, physicalId: failed.prev!.physicalId, failedProps: failed.decl.props });
    for (const r of rollback.reverse()) {
      const res = await this.call('Update', r.decl, r.physicalId, r.failedProps);
      if (!res.ok) {
        this.setStatus('UPDATE_ROLLBACK_FAILED');
        this.log.push('the user continues the update rollback');
        this.setStatus('UPDATE_ROLLBACK_IN_PROGRESS');
        await this.retried('Update', r.decl, r.physicalId, r.failedProps);
      }
    }
    this.setStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    const cleanup: LiveResource[] = [];
    for (const x of [...done].reverse()) {
      if (x.change.kind === 'Create') cleanup.push({ ...x.change.decl, physicalId: x.physicalId });
      else if (x.physicalId !== x.change.prev!.physicalId) cleanup.push({ ...x.change.decl, physicalId: x.physicalId }); // the replacement goes, the old one stays
    }
    if (failed !== 'other' && failed.kind === 'Create') cleanup.unshift({ ...failed.decl, physicalId: CREATE_FAILED_MARKER });
    for (const r of cleanup) await this.cleanupDelete(r);
    this.unlistDeleted(Array.from(old.keys()));
    this.setStatus('UPDATE_ROLLBACK_COMPLETE');
    if (this.unreachableCleanup) {
      this.log.push('not judged: a failed create could not reach the cluster to take its writes back');
    } else {
      this.oracle.expectVersion(this.view, this.lastGood!, 'after the rollback of the failed update');
    }
  }

  /**
   * After a cleanup phase: what the template no longer has is gone from the stack (deleted,
   * retained, or left behind by a failed delete); a replaced resource's logical id stays.
   */
  private unlistDeleted(kept: string[]) {
    for (const [id, r] of Array.from(this.listed)) {
      if (!kept.includes(id)) this.listed.delete(id);
      else if (r.status.startsWith('DELETE_')) this.listed.set(id, { ...r, status: 'UPDATE_COMPLETE' });
    }
  }

  /** A Delete in a cleanup phase: a failure is retried once, then skipped (the resource is left behind). */
  private async cleanupDelete(r: LiveResource) {
    const res = await this.call('Delete', r, r.physicalId);
    if (!res.ok) {
      const again = await this.call('Delete', r, r.physicalId, undefined, true);
      if (!again.ok) this.log.push(`${this.status}: DELETE_FAILED of ${r.logicalId} skipped`);
    }
  }

  private async deleteStack() {
    if (this.stackId === undefined || !this.lastGood) {
      this.log.push('delete: no stack');
      return;
    }
    if (this.lastGood.era !== 'reconciler') {
      this.log.push('delete: skipped (aws-eks era: its kubectl delete of aws-auth is aws-eks\'s behaviour, not judged here)');
      return;
    }
    this.oracle.adminExpected = false;
    this.setStatus('DELETE_IN_PROGRESS');
    for (const r of Array.from(this.resources.values()).reverse()) {
      if (r.retain) continue;
      const res = await this.call('Delete', r, r.physicalId);
      if (!res.ok) {
        this.setStatus('DELETE_FAILED');
        this.log.push('the user deletes the stack again');
        this.setStatus('DELETE_IN_PROGRESS');
        await this.retried('Delete', r, r.physicalId);
      }
    }
    this.resources.clear();
    this.stackId = undefined;
    this.listed.clear();
    // inherent with the status unknown: the Delete of the replaced instance cannot be told from the cleanup after a successful replacement
    this.oracle.lostCreateExcused = !this.statusKnown && this.lostAwsAuthCreate !== undefined;
    this.oracle.lostCreateRevoked = this.lostAwsAuthRevoked;
    this.oracle.expectDeleted(this.view, this.lastGood, this.statusKnown, `after the stack's delete (status ${this.statusKnown ? 'known' : 'unknown'})`);
    this.lastGood = undefined;
  }
}

/** Runs a whole scenario; returns the world (violations in world.oracle.violations). */
export async function runScenario(kube: FakeKube, s: Scenario): Promise<World> {
  STATS.sequences++;
  const world = new World(kube, s.nodeGroups);
  for (const n of s.nodeGroups) world.eksWritesNodeRole(n);
  let first = true;
  try {
    for (const op of s.ops) {
      let version: Version | undefined;
      if (op.kind === 'deploy') {
        const upgrading = first && s.start !== 'fresh';
        if (upgrading) {
          await world.legacyCreate(buildVersion(op.version!, s.nodeGroups, s.start === 'aws-eks' ? 'aws-eks' : 'previous-release'));
        }
        version = buildVersion(op.version!, s.nodeGroups, 'reconciler', s.start !== 'fresh');
        first = false;
      }
      await world.run(op, version);
      if (world.stackId === undefined && op.kind === 'delete') break;
    }
  } catch (e) {
    if (!(e instanceof Stuck)) throw e;
    world.oracle.violations.push({ category: 'stuck', where: world.log[world.log.length - 1] ?? '', message: e.message });
  }
  STATS.knownGaps += world.oracle.knownGaps;
  STATS.staleReleased += world.oracle.staleReleased;
  return world;
}

