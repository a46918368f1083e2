import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleStack } from '../../examples/app';
import { buildImportedStack } from '../../examples/app-imported';
import { buildManualScenariosStack } from '../../examples/app-manual-scenarios';
import { buildV2Stack } from '../../examples/app-v2';
import { buildV28Stack } from '../../examples/app-v28';
import { AccessReport } from '../../src';
import { AWS_AUTH_PATH } from '../../src/handlers/access-reconciler/aws-auth';
import { Event, dispatch } from '../../src/handlers/access-reconciler/index';
import { KubeApi } from '../../src/handlers/access-reconciler/kube';
import { AWS_AUTH_RESOURCE_TYPE, NAMESPACES_RESOURCE_TYPE, RBAC_RESOURCE_TYPE } from '../../src/handlers/access-reconciler/protocol';
import { usesAccessEntry } from '../../src/report/evaluate';
import { ParsedPrincipal, parseTemplate } from '../../src/report/parse';
import { RESOURCES, VERBS } from '../access-grid';
import { api as fakeApi } from '../handlers/events';
import { startFakeKube } from '../handlers/fake-kube';
import { buildScenarios } from '../scenarios';
import { askAuthenticator, describeReal, realKubeApi } from './components';

/**
 * `canI` against the real API server's RBAC authorizer: for every example and scenario
 * stack, the reconciler writes the stack's namespaces and RBAC objects into the real
 * kube-apiserver; each principal's identity is what aws-iam-authenticator's own reader maps
 * it to from the aws-auth the reconciler writes (or, where EKS uses its access entry, the
 * entry's username and groups); then every question of the grid is asked both of `canI` and,
 * as a SubjectAccessReview, of the API server. Access policies have no open-source
 * implementation: an answer that rests on one is judged against EKS's published tables
 * (test/access-policy-equivalence.test.ts) and only counted here.
 */
const ACCOUNT = '111122223333';
const SESSION = 'probe@example.com';
/** Principals asked per stack at most (the 400-grant stacks: a deterministic sample). */
const MAX_PRINCIPALS = 4;

/** A template value with the deploy-time values a test deploy would give it. */
function resolver(resources: Record<string, any>) {
  const arnOf = (id: string) => {
    const r = resources[id];
    if (r?.Type === 'Custom::CdkEksAccessSsoRole') return `arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_${r.Properties.PermissionSetName}_0123456789abcdef`;
    return `arn:aws:iam::${ACCOUNT}:${r?.Type === 'AWS::IAM::User' ? 'user' : 'role'}/${id}`;
  };
  const resolve = (v: any): any => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    if ('Fn::GetAtt' in v) return arnOf(v['Fn::GetAtt'][0]);
    if ('Ref' in v) return ({ 'AWS::Partition': 'aws', 'AWS::AccountId': ACCOUNT, 'AWS::Region': 'us-east-1' } as Record<string, string>)[v.Ref] ?? v.Ref;
    if ('Fn::Join' in v) return (resolve(v['Fn::Join'][1]) as string[]).join(v['Fn::Join'][0]);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  };
  return { resolve, arnOf };
}

/** The ARN the authenticator sees for a principal: a role's session, a user's ARN. */
function callerOf(arn: string): string {
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return role ? `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/${SESSION}` : arn;
}

/** aws-iam-authenticator's template rendering (pkg/server/server.go renderTemplate) for the probe session. */
function render(template: string): string {
  return template.split('{{AccountID}}').join(ACCOUNT).split('{{SessionName}}').join(SESSION.replace(/@/g, '-')).split('{{SessionNameRaw}}').join(SESSION);
}

function stacks(): Stack[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return [
    buildExampleStack(app), buildV2Stack(app), buildV28Stack(app), buildImportedStack(app), buildManualScenariosStack(app),
    ...buildScenarios(app),
  ];
}

describeReal('canI against the real kube-apiserver\'s RBAC (SubjectAccessReview), identities from aws-iam-authenticator v0.7.18', () => {
  let api: KubeApi;
  beforeAll(() => {
    api = realKubeApi();
  });
  const totals = { questions: 0, allowed: 0, accessPolicy: 0, principals: 0, mapped: 0, allowedByRbac: 0 };
  afterAll(() => {
    process.stdout.write(`canI against SubjectAccessReview: ${JSON.stringify(totals)}\n`);
  });

  test.each(stacks().map(s => [s.stackName, s] as const))('%s: canI answers what the API server authorizes', async (stackName, stack) => {
    const template = Template.fromStack(stack).toJSON();
    const resources: Record<string, any> = template.Resources;
    const { resolve } = resolver(resources);
    const stackId = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${stackName}/can-i`;
    const event = (id: string, type: string, props: any, requestType: Event['RequestType'] = 'Create'): Event => ({
      RequestType: requestType,
      ResourceType: type,
      StackId: stackId,
      RequestId: `${id}-${requestType}`,
      LogicalResourceId: id,
      ResourceProperties: { ServiceToken: 'x', ...resolve(props) },
      ...(requestType === 'Delete' ? { PhysicalResourceId: physical.get(id) } : {}),
    } as Event);
    const physical = new Map<string, string>();
    const mine = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

    // the reconciler writes the namespaces and RBAC objects into the real API server
    for (const [id, r] of [...mine(NAMESPACES_RESOURCE_TYPE), ...mine(RBAC_RESOURCE_TYPE)]) {
      physical.set(id, (await dispatch(event(id, r.Type, r.Properties), api, { baseDelayMs: 1, maxDelayMs: 20 })).PhysicalResourceId!);
    }
    // and aws-auth (into a loopback API: aws-auth is one object per cluster, tested in reconciler.test.ts)
    let awsAuthData: Record<string, string> = {};
    const awsAuth = mine(AWS_AUTH_RESOURCE_TYPE);
    if (awsAuth.length > 0) {
      const fake = await startFakeKube();
      try {
        for (const [id, r] of awsAuth) await dispatch(event(id, r.Type, r.Properties), fakeApi(fake), { baseDelayMs: 1, maxDelayMs: 20 });
        awsAuthData = fake.get(AWS_AUTH_PATH)?.data ?? {};
      } finally {
        await fake.close();
      }
    }

    try {
      const report = AccessReport.fromStack(stack);
      for (const cluster of parseTemplate(stack.stackName, template)) {
        // the stack's first two namespaces (400-grant stacks have twenty), and two others
        const namespaces = [...new Set([...mine(NAMESPACES_RESOURCE_TYPE).flatMap(([, r]) => (r.Properties.Namespaces as string[]).slice(0, 2)), 'team-a', 'team-b'])];
        const principals = sample(cluster.principals);
        for (const p of principals) {
          totals.principals++;
          // the report's rendering: ${X.Arn} (an attribute), ${X} (a Ref), ${AWS::...}
          const arn = p.templateArn.replace(/\$\{([^.}]+)(\.[A-Za-z]+)?\}/g, (_m, id: string, attr?: string) =>
            (attr ? resolve({ 'Fn::GetAtt': [id, attr.slice(1)] }) : resolve({ Ref: id })) as string);
          const caller = callerOf(p.permissionSetName && !arn.includes('AWSReservedSSO') ? `arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_${p.permissionSetName}_0123456789abcdef` : arn);
          const identity = await identityOf(cluster, p, caller, awsAuthData);
          if (identity) totals.mapped++;
          // as a user asks: a session ARN, or the report's name of a role the app creates
          const asked = p.templateArn.includes('${') && !p.permissionSetName ? p.templateArn : caller;
          const mismatches: string[] = [];
          const questions = VERBS.flatMap(verb => RESOURCES.flatMap(([apiGroup, resource]) =>
            [...namespaces, undefined].map(namespace => ({ verb, apiGroup, resource, namespace }))));
          for (let i = 0; i < questions.length; i += 64) {
            await Promise.all(questions.slice(i, i + 64).map(async (q) => {
              const mine0 = report.canI({
                principalArn: asked, cluster: cluster.id, verb: q.verb, apiGroup: q.apiGroup, resource: q.resource, namespaceName: q.namespace,
              });
              totals.questions++;
              if (mine0.allowed) totals.allowed++;
              if (mine0.allowed && /access policy|AmazonEKS\w+Policy/.test(mine0.reason)) {
                totals.accessPolicy++;
                return;
              }
              const real = identity ? await subjectAccessReview(api, identity, q) : false;
              if (real) totals.allowedByRbac++;
              if (real !== mine0.allowed) mismatches.push(`${q.verb} ${q.apiGroup}/${q.resource} ${q.namespace ?? '(cluster)'}: canI ${mine0.allowed} (${mine0.reason}), API server ${real}`);
            }));
          }
          expect([p.display, identity, mismatches.slice(0, 5)]).toEqual([p.display, identity, []]);
        }
      }
    } finally {
      // the stack's delete: its objects go (namespaces stay), so the next stack starts clean
      const context = { stackStatus: async () => 'DELETE_IN_PROGRESS' };
      for (const [id, r] of [...mine(RBAC_RESOURCE_TYPE), ...mine(NAMESPACES_RESOURCE_TYPE)]) {
        await dispatch(event(id, r.Type, r.Properties, 'Delete'), api, { baseDelayMs: 1, maxDelayMs: 20 }, context);
      }
    }
  });

  // a run in which nobody was mapped, or RBAC allowed nothing, would agree trivially
  test('the comparison reached mapped principals and RBAC answers that allow', () => {
    expect(totals.mapped).toBeGreaterThanOrEqual(30);
    expect(totals.allowedByRbac).toBeGreaterThan(1_000);
  });
});

function sample(principals: ParsedPrincipal[]): ParsedPrincipal[] {
  if (principals.length <= MAX_PRINCIPALS) return principals;
  const step = principals.length / MAX_PRINCIPALS;
  return Array.from({ length: MAX_PRINCIPALS }, (_, i) => principals[Math.floor(i * step)]);
}

/** Who the principal is to the API server: its access entry's identity where EKS uses it, else what the real authenticator maps. */
async function identityOf(cluster: ReturnType<typeof parseTemplate>[number], p: ParsedPrincipal, caller: string, awsAuthData: Record<string, string>)
  : Promise<{ username: string; groups: string[] } | undefined> {
  if (usesAccessEntry(cluster, p)) return { username: render(p.username), groups: p.accessEntryGroups };
  if (cluster.authenticationMode === 'API') return undefined;
  const answer = await askAuthenticator(awsAuthData, [caller]);
  const mappings = answer.callers[0].mappings;
  if (mappings.length > 1) throw new Error(`${caller}: ambiguous in aws-auth (${JSON.stringify(mappings)})`);
  return mappings[0] ? { username: render(mappings[0].username), groups: mappings[0].groups.map(render) } : undefined;
}

interface GridQuestion { verb: string; apiGroup: string; resource: string; namespace?: string }

async function subjectAccessReview(api: KubeApi, identity: { username: string; groups: string[] }, q: GridQuestion): Promise<boolean> {
  const [resource, subresource] = q.resource.split('/');
  const res = await api.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: identity.username,
      groups: [...identity.groups, 'system:authenticated'],
      resourceAttributes: {
        verb: q.verb, group: q.apiGroup, resource, ...(subresource ? { subresource } : {}), ...(q.namespace ? { namespace: q.namespace } : {}),
      },
    },
  });
  if (res.status !== 201) throw new Error(`SubjectAccessReview: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.status.allowed === true;
}
