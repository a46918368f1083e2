/* eslint-disable import/no-extraneous-dependencies */
// The AWS SDK v3 is provided by the Lambda Node.js runtime (esbuild keeps it external);
// it is a devDependency here for types and tests only.
import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsAuthDesired, AwsAuthRequest, FailSafeError, Owner, reconcileAwsAuth } from './aws-auth';
import { HttpKubeApi, KubeApi, RetryOptions, withTransientRetries } from './kube';
import { StackListing, StackResource, ensureNamespaces, rbacObjectsOf, reconcileObjects } from './objects';
import {
  AWS_AUTH_RESOURCE_TYPE, AwsAuthProperties, ClusterConnection, NAMESPACES_RESOURCE_TYPE, NamespacesProperties,
  RBAC_RESOURCE_TYPE, RbacProperties,
} from './protocol';
import { failure } from './refusal';
import { AwsCredentials, eksToken } from './token';
import { sha256Hex } from '../../private/hash';

/**
 * Custom-resource handler of the reconciler (behind the CDK provider framework): writes
 * this stack's aws-auth entries, namespaces and RBAC objects into a cluster, owning
 * exactly what it wrote. Authenticates with an EKS token of `RoleArn`.
 */

export interface Event {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceType: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, any>;
  readonly OldResourceProperties?: Record<string, any>;
}

export interface Result {
  readonly PhysicalResourceId: string;
}

/**
 * The owner id of a new resource: derived from the request, so each creation (also a
 * replacement under a new logical id) is a new owner. 40 hex characters fit the
 * 63-character limit of an annotation name.
 */
export function newOwnerId(event: Event): string {
  return sha256Hex(`${event.StackId}\n${event.LogicalResourceId}\n${event.RequestId}`).slice(0, 40);
}

/** What the handler may learn about the stack the event comes from. */
export interface DispatchContext {
  /**
   * The stack's status (CloudFormation `DescribeStacks` on the event's `StackId`), e.g.
   * `DELETE_IN_PROGRESS` or `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`; undefined
   * when unknown. Tells a real stack delete from the cleanup of a failed or replaced
   * resource.
   * @default - unknown
   */
  readonly stackStatus?: () => Promise<string | undefined>;
  /**
   * The stack's resources (CloudFormation `ListStackResources` on the event's `StackId`,
   * every page), in any status; undefined when they cannot be read. An RBAC object's
   * claim of this stack under a logical id that is not listed (and is not the event's) is
   * an owner CloudFormation will never update or delete (a create whose answer was lost
   * and whose own cleanup could not reach the cluster): a revocation, and the sweep that
   * ends every RBAC event (`sweepStaleClaims`), release it. Read only when such a claim
   * is seen, and after the object is read.
   * @default - unknown: such claims are kept
   */
  readonly stackResources?: () => Promise<StackResource[] | undefined>;
  /**
   * The clock (milliseconds since the epoch), for the age of an RBAC claim: a claim of a
   * logical id CloudFormation does not list is released only once it is older than
   * `GONE_CLAIM_MIN_AGE_MS` (objects.ts). The lifecycle model passes its own.
   * @default Date.now
   */
  readonly now?: () => number;
}

/**
 * Whether a Delete revokes (the stack's own delete, or the cleanup after a successful
 * update: true), undoes (the cleanup after a rollback, the rollback of a failed create:
 * false), or is unknown (undefined: then the reconciler keeps what an undo keeps).
 */
async function stackStatus(context: DispatchContext): Promise<string | undefined> {
  return context.stackStatus?.().catch(e => {
    console.error(`the stack's status is unknown: ${(e as Error).message}`);
    return undefined;
  });
}

function isRevocation(status: string | undefined): boolean | undefined {
  if (status === undefined) return undefined;
  // the stack's own delete, or the cleanup after a successful update (the new version has
  // no such resource): a revocation; a rollback's cleanup or a failed create's rollback: an undo
  return status === 'DELETE_IN_PROGRESS' || status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
}

function entriesOf(p: AwsAuthProperties | undefined): AwsAuthDesired | undefined {
  return p ? { mapRoles: Array.isArray(p.MapRoles) ? p.MapRoles : [], mapUsers: Array.isArray(p.MapUsers) ? p.MapUsers : [] } : undefined;
}

/** Handles one event against an API that is already connected. */
export async function dispatch(event: Event, connected: KubeApi, retry: RetryOptions = {}, context: DispatchContext = {}): Promise<Result> {
  // 429s, 5xx and dropped connections are re-sent (every write is conditional, so a re-sent
  // write that had landed answers 409/404 and is re-read)
  const api = withTransientRetries(connected, retry);
  const props = event.ResourceProperties;
  const old = event.OldResourceProperties;
  // Another cluster is another resource: a new owner there; CloudFormation then deletes
  // the old physical resource with the old properties (the old cluster).
  const replacing = event.RequestType === 'Update' && old !== undefined && old.ClusterName !== props.ClusterName;
  const creating = event.RequestType === 'Create' || replacing;
  const id = creating ? newOwnerId(event) : event.PhysicalResourceId!;
  const owner: Owner = { id, stack: event.StackId, logicalId: event.LogicalResourceId };
  const status = await stackStatus(context);
  const stackDelete = event.RequestType === 'Delete' ? isRevocation(status) : undefined;
  const rollback = event.RequestType === 'Update' && status !== undefined ? status === 'UPDATE_ROLLBACK_IN_PROGRESS' : undefined;
  switch (event.ResourceType) {
    case AWS_AUTH_RESOURCE_TYPE: {
      const p = props as AwsAuthProperties;
      const request: AwsAuthRequest = {
        owner,
        requestType: creating ? 'Create' : event.RequestType,
        desired: event.RequestType === 'Delete' ? undefined : { mapRoles: p.MapRoles ?? [], mapUsers: p.MapUsers ?? [] },
        legacyPruneLabel: p.LegacyPruneLabel,
        stackDelete,
        rollback,
        stackDeleting: event.RequestType === 'Delete' && status === 'DELETE_IN_PROGRESS',
        stackCreating: creating && status === 'CREATE_IN_PROGRESS',
        previousEntries: entriesOf(event.RequestType === 'Delete' ? p : event.RequestType === 'Update' && !replacing ? old as AwsAuthProperties : undefined),
        requestId: event.RequestId,
      };
      try {
        await reconcileAwsAuth(api, request, retry);
      } catch (e) {
        // a write may have landed before the error (a lost answer; also before a refusal, when
        // the retry re-read an aws-auth that someone changed meanwhile): the provider framework
        // never sends a Delete for a failed Create, so take this instance's entries back now
        // (a no-op when nothing of this instance landed)
        if (creating) {
          await reconcileAwsAuth(api, { owner, requestType: 'Delete', legacyPruneLabel: p.LegacyPruneLabel, stackDelete: false }, retry)
            .catch(cleanup => console.error(`cleanup after the failed create: ${(cleanup as Error).message}`));
        }
        throw e;
      }
      break;
    }
    case NAMESPACES_RESOURCE_TYPE:
      // never deleted: not on delete, not when a namespace leaves the list
      if (event.RequestType !== 'Delete') await ensureNamespaces(api, (props as NamespacesProperties).Namespaces ?? [], retry);
      break;
    case RBAC_RESOURCE_TYPE: {
      // only RBAC kinds are written; an earlier version's other kinds are never deleted
      const objects = rbacObjectsOf((props as RbacProperties).Objects, event.RequestType !== 'Delete');
      const now = context.now ?? Date.now;
      const listing = context.stackResources ? new StackListing(context.stackResources, now) : undefined;
      if (event.RequestType === 'Delete') {
        // what the library's first release applied stays unless the stack itself is deleted
        const removeTakenOver = stackDelete === true;
        await reconcileObjects(api, owner, [], objects, { retry, removeTakenOver, listing, sweep: { removeTakenOver }, now });
      } else {
        const previous = creating ? [] : rbacObjectsOf((old as RbacProperties | undefined)?.Objects, false);
        // own claims outside the properties are an instance CloudFormation never had: undone
        await reconcileObjects(api, owner, objects, previous, { retry, create: creating, rollback, listing, sweep: { removeTakenOver: false }, now });
      }
      break;
    }
    default:
      throw new Error(`unknown resource type ${event.ResourceType}`);
  }
  return { PhysicalResourceId: id };
}

/** Connect timeout of every AWS client the handler keeps (EKS, STS, CloudFormation). */
export const AWS_CONNECT_TIMEOUT_MS = 3_000;
/** Timeout of one try of a request of those clients (the SDK tries each call at most 3 times). */
export const AWS_REQUEST_TIMEOUT_MS = 20_000;

/**
 * The configuration of every AWS client the handler keeps: connect and request timeouts,
 * each at most an eighth of the invocation's remaining time (when known), so that an
 * endpoint that never answers fails the call, with its reason, well before Lambda ends the
 * invocation without one.
 */
export function awsClientConfig(region: string, remainingMs?: number) {
  const cap = remainingMs === undefined ? Infinity : Math.max(100, Math.floor(remainingMs / 8));
  return {
    region,
    maxAttempts: 3,
    // throwOnRequestTimeout: since @smithy/node-http-handler 4.x a request timeout only logs
    // a warning without it (older versions, which ignore the option, always threw)
    requestHandler: {
      connectionTimeout: Math.min(AWS_CONNECT_TIMEOUT_MS, cap), requestTimeout: Math.min(AWS_REQUEST_TIMEOUT_MS, cap), throwOnRequestTimeout: true,
    },
  };
}

/** Credentials of `roleArn`, assumed from the handler's own role. */
export async function assumeRole(roleArn: string, sts: STSClient, retryDelayMs = 5000, attempts = 12): Promise<AwsCredentials> {
  let res;
  for (let i = 1; ; i++) {
    try {
      res = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'cdk-eks-access', DurationSeconds: 900 }));
      break;
    } catch (e) {
      // the role's trust policy may have gained our role in this very deploy: IAM takes
      // a few seconds to apply it
      if ((e as Error).name !== 'AccessDenied' || i >= attempts) throw e;
      await new Promise(r => setTimeout(r, retryDelayMs));
    }
  }
  const c = res.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`sts:AssumeRole of ${roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

export interface ConnectOptions {
  readonly region: string;
  /** @default - AssumeRole of the connection's role; without a role, the handler's own credentials */
  readonly credentials?: AwsCredentials;
  /** @default - the EKS client of the Lambda environment */
  readonly eks?: EKSClient;
  /** @default - the STS client of the Lambda environment (regional endpoint) */
  readonly sts?: STSClient;
  /** Delay between tries while a new access entry propagates (401). @default 5000 */
  readonly unauthorizedDelayMs?: number;
}

/** Where the cluster answers, as EKS says. */
export interface ClusterAccessPoint {
  /** `https://` only. */
  readonly endpoint: string;
  /** PEM. */
  readonly certificateAuthority: string;
}

/**
 * The endpoint and CA of `ClusterName`, from `eks:DescribeCluster`, on every event: never
 * from the resource's properties (the handler sends a cluster-admin token to that endpoint,
 * and properties are whatever the template says). Only an `https://` endpoint is used.
 * Undefined when EKS says the cluster does not exist.
 */
export async function clusterAccessPoint(connection: ClusterConnection, eks: EKSClient): Promise<ClusterAccessPoint | undefined> {
  let res;
  try {
    res = await eks.send(new DescribeClusterCommand({ name: connection.ClusterName }));
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
  const endpoint = res.cluster?.endpoint;
  const ca = res.cluster?.certificateAuthority?.data;
  if (!endpoint || !ca) {
    throw new Error(`eks:DescribeCluster of ${connection.ClusterName} returned no endpoint or certificate authority (status ${res.cluster?.status}); is the cluster active?`);
  }
  if (!endpoint.startsWith('https://')) {
    throw new Error(`eks:DescribeCluster of ${connection.ClusterName} returned the endpoint ${JSON.stringify(endpoint)}, which is not https://; the handler sends its token over TLS only, verified against the cluster's CA.`);
  }
  return { endpoint, certificateAuthority: Buffer.from(ca, 'base64').toString('utf8') };
}

/**
 * Connects to the cluster of a resource's properties with an EKS token of its role, at the
 * endpoint EKS gives (`clusterAccessPoint`), or at `access` when the caller already asked.
 */
export async function connect(connection: ClusterConnection, options: ConnectOptions, access?: ClusterAccessPoint): Promise<KubeApi> {
  if (!connection.ClusterName) throw new Error('ClusterName is required');
  const sts = options.sts ?? new STSClient(awsClientConfig(options.region));
  const credentials = options.credentials
    ?? (connection.RoleArn ? await assumeRole(connection.RoleArn, sts) : await ownCredentials(sts));
  const point = access ?? await clusterAccessPoint(connection, options.eks ?? new EKSClient(awsClientConfig(options.region)));
  if (!point) throw new Error(`eks:DescribeCluster: the cluster ${connection.ClusterName} does not exist`);
  const api = async () => new HttpKubeApi({
    endpoint: point.endpoint,
    token: await eksToken({ clusterName: connection.ClusterName, region: options.region, credentials }),
    certificateAuthority: point.certificateAuthority,
  });
  // the handler's own access entry is created just before its first resource, and EKS
  // takes a while to honour a new entry and its policy: wait for it rather than fail
  return connection.RoleArn ? api() : waitUntilAuthorized(api, options.unauthorizedDelayMs);
}

/** The credentials of the handler's own execution role (the SDK's default chain, from the Lambda environment). */
async function ownCredentials(sts: STSClient): Promise<AwsCredentials> {
  const c = await sts.config.credentials();
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
}

/**
 * A connection once the cluster lets the handler's own role list namespaces, which needs
 * the cluster-admin access policy of its access entry: while the new entry or its policy
 * association propagates, the API answers 401 or 403. Each try signs a new token (the
 * API server caches the answer for a token, failures included, for about two minutes),
 * and a request that fails to reach the server is tried again. At most `attempts` tries,
 * `delayMs` apart (default 30 x 5 s: 150 s; see the time budget in kube.ts).
 */
export async function waitUntilAuthorized(open: () => Promise<KubeApi>, delayMs = 5000, attempts = 30): Promise<KubeApi> {
  let last = '';
  for (let i = 1; ; i++) {
    const api = await open();
    try {
      const res = await api.request('GET', '/api/v1/namespaces?limit=1');
      if (res.status !== 401 && res.status !== 403) return api;
      last = `${res.status} ${res.status === 401 ? 'Unauthorized' : 'Forbidden'}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (i >= attempts) throw new Error(`the cluster still refuses the handler's own role after ${attempts} tries ${delayMs / 1000} s apart (${last}); does its access entry exist with AmazonEKSClusterAdminPolicy?`);
    await new Promise(r => setTimeout(r, delayMs));
  }
}

/** Handles one event: connects to the cluster of its properties, then dispatches. */
export async function handle(event: Event, options: ConnectOptions, retry: RetryOptions = {}, context: DispatchContext = {}): Promise<Result> {
  const connection = event.ResourceProperties as ClusterConnection;
  if (!connection.ClusterName) throw new Error('ClusterName is required');
  const access = await clusterAccessPoint(connection, options.eks ?? new EKSClient(awsClientConfig(options.region)));
  // a cluster that no longer exists holds nothing of ours: its resources delete cleanly
  // (asked first: an endpoint that no longer resolves would be retried for minutes)
  if (!access && event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId! };
  const api = await connect(connection, options, access);
  return dispatch(event, api, retry, context);
}

/** The Lambda entry point (onEvent of the CDK provider framework). */
/**
 * The stack's status, read with `cloudformation:DescribeStacks` on the event's stack id
 * (the handler's role is allowed that stack only); undefined when it cannot be read.
 */
export async function describeStackStatus(stackId: string, cfn: CloudFormationClient): Promise<string | undefined> {
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackId }));
    return res.Stacks?.[0]?.StackStatus;
  } catch (e) {
    console.error(`cloudformation:DescribeStacks of ${stackId} failed: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * The stack's resources, read with `cloudformation:ListStackResources` on the event's stack
 * id (every page; the handler's role is allowed that stack only); undefined when they
 * cannot all be read.
 */
export async function listStackResources(stackId: string, cfn: CloudFormationClient, maxPages = 100): Promise<StackResource[] | undefined> {
  const out: StackResource[] = [];
  const tokens = new Set<string>();
  let next: string | undefined;
  try {
    for (let page = 0; page < maxPages; page++) {
      const res = await cfn.send(new ListStackResourcesCommand({ StackName: stackId, ...(next ? { NextToken: next } : {}) }));
      for (const r of res.StackResourceSummaries ?? []) {
        if (!r.LogicalResourceId) throw new Error('a resource without a logical id');
        out.push({ logicalId: r.LogicalResourceId, type: r.ResourceType ?? '', status: r.ResourceStatus ?? '', ...(r.PhysicalResourceId ? { physicalId: r.PhysicalResourceId } : {}) });
      }
      next = res.NextToken;
      if (!next) return out;
      if (tokens.has(next)) throw new Error(`the same NextToken twice (${next})`);
      tokens.add(next);
    }
    throw new Error(`more than ${maxPages} pages`);
  } catch (e) {
    console.error(`cloudformation:ListStackResources of ${stackId} failed: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * The error the Lambda entry point throws for `e`: a refusal (FailSafeError) says what to
 * fix; any other error gets the resource named for the stack's events. Fitted to
 * CloudFormation's response limit (refusal.ts).
 */
export function handlerFailure(event: Event, e: unknown): Error {
  const message = e instanceof FailSafeError ? e.message : `${event.LogicalResourceId} (${event.RequestType}): ${(e as Error).message}`;
  return failure(message, e);
}

/** What the handler reads of Lambda's invocation context. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export async function handler(event: Event, lambdaContext?: LambdaContext): Promise<Result> {
  const region = process.env.AWS_REGION!;
  const config = awsClientConfig(region, lambdaContext?.getRemainingTimeInMillis());
  const cfn = new CloudFormationClient(config);
  try {
    return await handle(event, { region, eks: new EKSClient(config), sts: new STSClient(config) }, {}, {
      stackStatus: () => describeStackStatus(event.StackId, cfn),
      stackResources: () => listStackResources(event.StackId, cfn),
    });
  } catch (e) {
    throw handlerFailure(event, e);
  }
}
