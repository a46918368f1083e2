import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EksCluster, EksClusterProps } from '../src';
import { render } from '../src/report/parse';

// aws-cdk-lib's built-in CloudFormation validation plugin is off in tests (it costs about
// 3 s per EKS synth; the examples' templates are checked with the real cfn-lint instead).
// CDK_VALIDATION=false is the switch every aws-cdk-lib release that has the plugin reads
// (2.263 has no App property for it). Jest gives each test file its own process.env.
process.env.CDK_VALIDATION = 'false';

/**
 * An app for tests: CloudFormation validation off (above), no tree metadata is written, and assets are not staged (every EKS
 * synth would otherwise copy about 50 MB of kubectl and AWS CLI layers into a new
 * temporary directory: hundreds of test synths fill the disk).
 */
export function testApp(): App {
  return new App({ ...TEST_APP_PROPS });
}

export const TEST_APP_PROPS = {
  treeMetadata: false,
  stackTraces: false,
  context: { 'aws:cdk:disable-asset-staging': true },
};

export function testStack(props: StackProps = {}, app: App = testApp()): Stack {
  return new Stack(app, 'Test', props);
}

export const ADMIN_ARN = 'arn:aws:iam::111122223333:role/Ops';

/** An EksCluster with the defaults tests use: no default capacity, admin principal Ops. */
export function testCluster(stack: Stack, props: Partial<EksClusterProps> = {}, id = 'Cluster'): EksCluster {
  return new EksCluster(stack, id, {
    version: eks.KubernetesVersion.V1_35,
    defaultCapacity: 0,
    ...(props.adminRole ? {} : { adminPrincipal: new iam.ArnPrincipal(ADMIN_ARN) }),
    ...props,
  });
}

export interface AwsAuthEntry {
  rolearn?: string;
  userarn?: string;
  username: string;
  groups: string[];
}

/**
 * Renders a CloudFormation value as a string (Fn::Join over literals; refs as `${X}`,
 * attributes as `${X.Attr}`): the same rendering the access report uses.
 */
export const flatten = render;

/** All resources of a type. */
export function resourcesOf(template: Template, type: string): Record<string, any> {
  return template.findResources(type);
}

/**
 * The Kubernetes objects of every custom resource that writes them, by logical id:
 * the reconciler's RBAC chunks and namespaces, and any aws-eks kubectl manifest.
 */
export function manifests(template: Template): Record<string, any[]> {
  const out: Record<string, any[]> = {};
  for (const [id, res] of Object.entries(resourcesOf(template, 'Custom::AWSCDK-EKS-KubernetesResource'))) {
    out[id] = JSON.parse(flatten(res.Properties.Manifest));
  }
  for (const [id, res] of Object.entries(resourcesOf(template, 'Custom::CdkEksAccessRbac'))) {
    out[id] = res.Properties.Objects;
  }
  for (const [id, res] of Object.entries(resourcesOf(template, 'Custom::CdkEksAccessAwsAuth'))) {
    // what the reconciler writes into an absent aws-auth (JSON is YAML)
    const entries = (list: any[]) => JSON.stringify(list.map(flatEntry));
    out[id] = [{
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system' },
      data: { mapRoles: entries(res.Properties.MapRoles), mapUsers: entries(res.Properties.MapUsers) },
    }];
  }
  for (const [id, res] of Object.entries(resourcesOf(template, 'Custom::CdkEksAccessNamespaces'))) {
    out[id] = (res.Properties.Namespaces as string[]).map(name => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  }
  return out;
}

/** Renders every value of an aws-auth entry as a string (tokens as `${X}`). */
function flatEntry(entry: any): AwsAuthEntry {
  return {
    ...(entry.rolearn !== undefined ? { rolearn: flatten(entry.rolearn) } : {}),
    ...(entry.userarn !== undefined ? { userarn: flatten(entry.userarn) } : {}),
    username: flatten(entry.username),
    groups: (entry.groups as unknown[]).map(g => flatten(g)),
  };
}

/** The aws-auth entries the reconciler writes, as aws-auth would hold them. */
export function awsAuth(template: Template): { mapRoles: AwsAuthEntry[]; mapUsers: AwsAuthEntry[]; logicalId: string } {
  const found = Object.entries(resourcesOf(template, 'Custom::CdkEksAccessAwsAuth'));
  if (found.length !== 1) throw new Error(`expected one aws-auth resource, found ${found.length}`);
  const overwriting = Object.values(resourcesOf(template, 'Custom::AWSCDK-EKS-KubernetesResource'))
    .filter(r => JSON.parse(flatten(r.Properties.Manifest)).some((o: any) => o.kind === 'ConfigMap' && o.metadata.name === 'aws-auth'));
  if (overwriting.length > 0) throw new Error('aws-eks\'s own aws-auth manifest is in the template as well');
  const props = found[0][1].Properties;
  return { mapRoles: props.MapRoles.map(flatEntry), mapUsers: props.MapUsers.map(flatEntry), logicalId: found[0][0] };
}

/** Every generated RBAC object (no namespaces, no aws-auth), flattened. */
export function rbacObjects(template: Template): any[] {
  return Object.values(manifests(template)).flat().filter(o => o.kind !== 'ConfigMap' && o.kind !== 'Namespace');
}
