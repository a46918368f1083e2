import * as YAML from 'yaml';
import { FakeKube } from './fake-kube';
import { AWS_AUTH_PATH, StackRecord, recordKey } from '../../src/handlers/access-reconciler/aws-auth';
import { Event } from '../../src/handlers/access-reconciler/index';
import { HttpKubeApi, KubeApi } from '../../src/handlers/access-reconciler/kube';
import { AWS_AUTH_RESOURCE_TYPE } from '../../src/handlers/access-reconciler/protocol';
import { eksToken } from '../../src/handlers/access-reconciler/token';

/** Events, principals and readers shared by the reconciler's handler tests. */

export const STACK_A = 'arn:aws:cloudformation:us-east-1:111122223333:stack/A/11111111-aaaa-bbbb-cccc-000000000001';
export const STACK_B = 'arn:aws:cloudformation:us-east-1:111122223333:stack/B/11111111-aaaa-bbbb-cccc-000000000002';
export const NODE_ROLE = 'arn:aws:iam::111122223333:role/NodeInstanceRole';
export const NODE = { rolearn: NODE_ROLE, username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:bootstrappers', 'system:nodes'] };
export const ADMIN = { rolearn: 'arn:aws:iam::111122223333:role/Ops', username: 'role:Ops:{{SessionName}}', groups: ['system:masters'] };
export const DEV = { rolearn: 'arn:aws:iam::111122223333:role/Dev', username: 'role:Dev:{{SessionName}}', groups: ['cdk-eks-access:team-a:edit'] };
export const QA = { rolearn: 'arn:aws:iam::111122223333:role/QA', username: 'role:QA:{{SessionName}}', groups: ['cdk-eks-access:team-a:edit'] };
export const ALICE = { userarn: 'arn:aws:iam::111122223333:user/people/alice', username: 'user:alice', groups: ['cdk-eks-access:cluster-view'] };
export const FAST = { baseDelayMs: 1, maxDelayMs: 20 };

export const CONNECTION = { ClusterName: 'c', RoleArn: 'arn:aws:iam::111122223333:role/Creation' };
let requestCounter = 0;

export function event(type: string, requestType: Event['RequestType'], props: Record<string, any>, extra: Partial<Event> = {}): Event {
  return {
    RequestType: requestType,
    ResourceType: type,
    StackId: STACK_A,
    RequestId: `req-${++requestCounter}`,
    LogicalResourceId: 'AwsAuth',
    ResourceProperties: { ServiceToken: 'x', ...CONNECTION, ...props },
    ...extra,
  };
}

export function awsAuthEvent(requestType: Event['RequestType'], mapRoles: object[], mapUsers: object[] = [], extra: Partial<Event> = {}): Event {
  return event(AWS_AUTH_RESOURCE_TYPE, requestType, { MapRoles: mapRoles, MapUsers: mapUsers }, extra);
}

/** The aws-auth ConfigMap of the fake, parsed as aws-iam-authenticator would (YAML). */
export function awsAuthOf(kube: FakeKube): { mapRoles: any[]; mapUsers: any[]; annotations: Record<string, string> } {
  const cm = kube.get(AWS_AUTH_PATH);
  return {
    mapRoles: YAML.parse(cm.data.mapRoles ?? '[]') ?? [],
    mapUsers: YAML.parse(cm.data.mapUsers ?? '[]') ?? [],
    annotations: cm.metadata.annotations ?? {},
  };
}

/** This stack's ownership record on aws-auth. */
export function recordOf(kube: FakeKube, stack = STACK_A): StackRecord {
  return JSON.parse(kube.get(AWS_AUTH_PATH).metadata.annotations[recordKey(stack)]);
}

let token: Promise<string> | undefined;

/** A client of the fake with an EKS token (signed once, on first use). */
export function api(kube: FakeKube): KubeApi {
  token ??= eksToken({ clusterName: 'c', region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' } });
  return { request: async (method, path, body) => new HttpKubeApi({ endpoint: kube.endpoint, token: await token! }).request(method, path, body) };
}
