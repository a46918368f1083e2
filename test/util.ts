import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EksCluster, EksClusterProps } from '../src';
import { render } from '../src/report/parse';

/**
 * An app for tests: aws-cdk-lib's built-in CloudFormation validation plugin is off (it
 * costs about 3 s per EKS synth; the examples' templates are checked with the real
 * cfn-lint instead), no tree metadata is written, and assets are not staged (every EKS
 * synth would otherwise copy about 50 MB of kubectl and AWS CLI layers into a new
 * temporary directory: hundreds of test synths fill the disk).
 */
export function testApp(): App {
  return new App({ ...TEST_APP_PROPS });
}

export const TEST_APP_PROPS = {
  builtinCloudFormationValidation: false,
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

/** The manifests (parsed) of every kubectl custom resource, by logical id. */
export function manifests(template: Template): Record<string, any[]> {
  const out: Record<string, any[]> = {};
  for (const [id, res] of Object.entries(resourcesOf(template, 'Custom::AWSCDK-EKS-KubernetesResource'))) {
    out[id] = JSON.parse(flatten(res.Properties.Manifest));
  }
  return out;
}

/** The aws-auth ConfigMap's entries, parsed. */
export function awsAuth(template: Template): { mapRoles: AwsAuthEntry[]; mapUsers: AwsAuthEntry[]; logicalId: string } {
  const found = Object.entries(manifests(template)).filter(([, objs]) => objs.some(o => o.kind === 'ConfigMap' && o.metadata.name === 'aws-auth'));
  if (found.length !== 1) throw new Error(`expected one aws-auth manifest, found ${found.length}`);
  const cm = found[0][1].find(o => o.kind === 'ConfigMap');
  return { mapRoles: JSON.parse(cm.data.mapRoles), mapUsers: JSON.parse(cm.data.mapUsers), logicalId: found[0][0] };
}

/** Every generated RBAC object (all kubectl resources except aws-auth), flattened. */
export function rbacObjects(template: Template): any[] {
  return Object.values(manifests(template)).flat().filter(o => o.kind !== 'ConfigMap');
}
