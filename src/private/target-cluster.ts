import { Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';

/**
 * The cluster a ClusterAccess writes to, whichever aws-cdk-lib module it comes from:
 * `aws-eks` (a custom-resource cluster with a kubectl role, any authentication mode) or
 * `aws-eks-v2` (a native `AWS::EKS::Cluster`, API authentication mode only).
 */
export interface TargetCluster {
  readonly construct: IConstruct;
  readonly clusterName: string;
  readonly clusterArn: string;
  /** the aws-eks cluster (undefined for aws-eks-v2) */
  readonly v1?: eks.ICluster;
  /** the aws-eks-v2 cluster (undefined for aws-eks) */
  readonly v2?: eksv2.ICluster;
  /** created in this app (not imported) */
  readonly definedInApp: boolean;
  /** `CONFIG_MAP`, `API_AND_CONFIG_MAP` or `API`; undefined when unknown (an imported aws-eks cluster) */
  readonly authenticationMode?: string;
}

export function targetOfV1(cluster: eks.ICluster): TargetCluster {
  return {
    construct: cluster,
    clusterName: cluster.clusterName,
    clusterArn: cluster.clusterArn,
    v1: cluster,
    definedInApp: cluster instanceof eks.Cluster,
    authenticationMode: cluster instanceof eks.Cluster ? (cluster.authenticationMode ?? eks.AuthenticationMode.CONFIG_MAP) : undefined,
  };
}

export function targetOfV2(cluster: eksv2.ICluster): TargetCluster {
  return {
    construct: cluster,
    clusterName: cluster.clusterName,
    clusterArn: cluster.clusterArn,
    v2: cluster,
    definedInApp: cluster instanceof eksv2.Cluster,
    authenticationMode: 'API', // aws-eks-v2 creates API-mode clusters only
  };
}

/** The native cluster resource of an aws-eks-v2 cluster defined in the app. */
export function cfnClusterOf(target: TargetCluster): eks.CfnCluster | undefined {
  const child = target.v2 instanceof eksv2.Cluster ? target.v2.node.defaultChild : undefined;
  return child instanceof eks.CfnCluster || (child as { cfnResourceType?: string } | undefined)?.cfnResourceType === 'AWS::EKS::Cluster'
    ? child as eks.CfnCluster : undefined;
}

/** A literal value of a CloudFormation property, or undefined when it is absent or a token. */
function literal<T>(value: T | undefined): T | undefined {
  return value === undefined || Token.isUnresolved(value) ? undefined : value;
}

/**
 * Whether EKS gives the cluster's creator an access entry with cluster admin itself
 * (`bootstrapClusterCreatorAdminPermissions`, EKS's default true). Undefined when unknown.
 */
export function bootstrapsCreatorAdmin(target: TargetCluster): boolean | undefined {
  const cfn = cfnClusterOf(target);
  if (!cfn) return undefined;
  const config = Stack.of(cfn).resolve(cfn.accessConfig) as { bootstrapClusterCreatorAdminPermissions?: boolean } | undefined;
  return literal(config?.bootstrapClusterCreatorAdminPermissions) ?? true;
}

/**
 * Whether a function outside the VPC can reach the endpoint of an aws-eks-v2 cluster
 * defined in the app: the endpoint is public and open to every address (a public endpoint
 * restricted to some CIDRs would not let Lambda's addresses in). Undefined when unknown.
 */
export function endpointIsPublic(target: TargetCluster): boolean | undefined {
  const cfn = cfnClusterOf(target);
  if (!cfn) return undefined;
  const config = Stack.of(cfn).resolve(cfn.resourcesVpcConfig) as { endpointPublicAccess?: boolean; publicAccessCidrs?: unknown } | undefined;
  const cidrs = config?.publicAccessCidrs;
  const open = cidrs === undefined || (Array.isArray(cidrs) && (cidrs.length === 0 || cidrs.includes('0.0.0.0/0')));
  return (literal(config?.endpointPublicAccess) ?? true) && open;
}

/** Whether EKS gives aws-eks's creation role (its `adminRole`) a bootstrap cluster-admin access entry. */
export function v1BootstrapsCreatorAdmin(cluster: eks.Cluster): boolean {
  const resource = cluster.node.findAll().find(c => (c as { cfnResourceType?: string }).cfnResourceType === 'Custom::AWSCDK-EKS-Cluster');
  const properties = (resource as unknown as { _cfnProperties?: { Config?: any } } | undefined)?._cfnProperties;
  const config = properties ? Stack.of(cluster).resolve(properties.Config) : undefined;
  return literal(config?.accessConfig?.bootstrapClusterCreatorAdminPermissions) !== false;
}

/** Whether a construct is one of this library's (its access entries, its reconciler's). */
function isOurs(c: IConstruct): boolean {
  return c.node.scopes.some(s => s.node.id === 'CdkEksAccess');
}

/** A principal that EKS or aws-eks(-v2) gives an access entry itself. */
export interface ExistingAccessEntry {
  readonly what: string;
  readonly arn: string;
  /** the role construct, when the app defines or imports it */
  readonly role?: IConstruct;
}

/**
 * The access entries that exist without a grant: node roles (EKS creates entries for
 * managed node groups, Fargate profiles and Auto Mode's node role), Auto Mode's cluster
 * role, the cluster creator (bootstrap admin permissions, in the API modes), and the
 * entries aws-eks and aws-eks-v2 render themselves (`grantAccess`, `mastersRole`, the
 * kubectl provider's role).
 */
export function existingAccessEntries(target: TargetCluster): ExistingAccessEntry[] {
  const out: ExistingAccessEntry[] = [];
  const stack = Stack.of(target.construct);
  for (const c of stack.node.findAll()) {
    if (c instanceof eks.Nodegroup || c instanceof eksv2.Nodegroup) {
      if (c.cluster === target.construct) out.push({ what: `node group ${c.node.path}`, role: c.role, arn: c.role.roleArn });
    }
    // a profile does not expose its cluster: every profile of the stack counts (a grant to
    // another cluster's pod execution role is as unlikely as it is useless)
    if (c instanceof eks.FargateProfile || c instanceof eksv2.FargateProfile) {
      out.push({ what: `Fargate profile ${c.node.path}`, role: c.podExecutionRole, arn: c.podExecutionRole.roleArn });
    }
  }
  if (target.v1 instanceof eks.Cluster && target.authenticationMode !== eks.AuthenticationMode.CONFIG_MAP && v1BootstrapsCreatorAdmin(target.v1)) {
    // aws-eks creates the cluster with this role; EKS gives its creator an access entry
    out.push({ what: `the cluster creator (aws-eks's adminRole of ${target.v1.node.path}, which EKS gives an access entry with cluster admin)`, role: target.v1.adminRole, arn: target.v1.adminRole.roleArn });
  }
  const cfn = cfnClusterOf(target);
  if (cfn && target.v2 instanceof eksv2.Cluster) {
    const compute = stack.resolve(cfn.computeConfig) as { enabled?: boolean; nodeRoleArn?: unknown } | undefined;
    if (compute?.enabled === true) {
      const nodeRoleArn = (cfn.computeConfig as { nodeRoleArn?: string }).nodeRoleArn;
      if (nodeRoleArn !== undefined) out.push({ what: `EKS Auto Mode's node role of ${target.v2.node.path}`, arn: nodeRoleArn });
      out.push({ what: `EKS Auto Mode's cluster role of ${target.v2.node.path}`, role: target.v2.role, arn: target.v2.role.roleArn });
    }
  }
  const rendered = (target.construct as unknown as { accessEntries?: Map<unknown, unknown> }).accessEntries;
  for (const key of rendered instanceof Map ? rendered.keys() : []) {
    if (typeof key === 'string') out.push({ what: `cluster.grantAccess() of ${target.v2 ? 'aws-eks-v2' : 'aws-eks'} (or its mastersRole or kubectl provider, which it grants that way)`, arn: key });
  }
  // any other AWS::EKS::AccessEntry of the stack for this cluster (an L2 AccessEntry, a raw CfnAccessEntry)
  const clusterName = JSON.stringify(stack.resolve(target.clusterName));
  for (const c of stack.node.findAll()) {
    if ((c as { cfnResourceType?: string }).cfnResourceType !== 'AWS::EKS::AccessEntry' || isOurs(c)) continue;
    const entry = c as unknown as eks.CfnAccessEntry;
    if (JSON.stringify(stack.resolve(entry.clusterName)) !== clusterName) continue;
    out.push({ what: `the access entry ${c.node.path}`, arn: entry.principalArn });
  }
  return out;
}
