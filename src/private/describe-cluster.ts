import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BoundPrincipal } from './bound-principal';
import { sha256Hex } from './hash';
import { AccessPrincipalType } from '../principal';

/**
 * The IAM half of a grant: `eks:DescribeCluster` on the cluster, which
 * `aws eks update-kubeconfig` calls before kubectl can be used, added to the granted role
 * or user with `iam.Grant.addToPrincipal`.
 *
 * By default only roles and users created in the app get it: an imported role
 * (`Role.fromRoleArn`, mutable by default) may be an SSO, service-linked or externally
 * managed role, to which attaching a policy fails the deploy, so imports get it only when
 * asked (`GrantOptions.describeCluster: true`).
 *
 * A role or user of another stack gets the statement through an `iam.Policy` in the
 * cluster's stack (one resource per such principal): its own default policy would refer
 * to the cluster's ARN, and the cluster's stack already depends on the principal's stack
 * (for its ARN), so that would be a cycle.
 *
 * Roles the cluster resource itself depends on (aws-eks's creation role, which already may
 * describe the cluster) are left alone: a statement naming the cluster's ARN in their
 * policy would be a dependency cycle.
 *
 * @returns whether the statement was added (false when not asked for)
 * @throws when asked for a principal the app cannot attach a policy to
 */
export function grantDescribeCluster(
  scope: Construct, bound: BoundPrincipal, clusterArn: string, asked: boolean | undefined, context: string, clusterRoles: readonly unknown[] = [],
  already = false, extra: iam.PolicyStatement[] = [],
): boolean {
  const source = bound.source;
  if (source !== undefined && clusterRoles.includes(source)) {
    if (asked) throw new Error(`${context}: describeCluster is true, but ${source.node.path} is a role the cluster itself is created with; a statement naming the cluster in its policy would make a dependency cycle (and it may describe the cluster already). Leave describeCluster out.`);
    return false;
  }
  const created = source instanceof iam.Role || source instanceof iam.User;
  if (!(asked ?? created)) return false;
  const statements = [...(already ? [] : [new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [clusterArn] })]), ...extra];
  if (statements.length === 0) return true;
  if (source === undefined || !isGrantable(source)) {
    const where = bound.permissionSetName !== undefined
      ? 'For an IAM Identity Center permission set, add the statement to the permission set (its inline or customer managed policy)'
      : 'Pass the role or user as a construct (grantRole(iam.Role.fromRoleArn(...)), grantUser(...)), or add the statement where the principal\'s policies are managed';
    throw new Error(`${context}: describeCluster is true, but ${bound.mappedArn} is given by ARN, not as an IAM construct, so no policy can be attached to it. ${where}: { "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": "<the cluster's ARN>" }.`);
  }
  if (isImmutableImport(source)) {
    throw new Error(`${context}: describeCluster is true, but ${source.node.path} cannot take a policy (an immutable import, e.g. Role.fromRoleArn(..., { mutable: false }), which drops statements silently). Import it as mutable, add eks:DescribeCluster where its policies are managed, or leave describeCluster out.`);
  }
  if (Stack.of(source) !== Stack.of(scope)) {
    const id = `DescribeCluster${sha256Hex(source.node.path).slice(0, 8)}`;
    const existing = scope.node.tryFindChild(id);
    if (existing instanceof iam.Policy) {
      existing.addStatements(...statements);
      return true;
    }
    const policy = new iam.Policy(scope, id, { statements });
    if (bound.type === AccessPrincipalType.USER) policy.attachToUser(source as unknown as iam.IUser);
    else policy.attachToRole(source as unknown as iam.IRole);
    return true;
  }
  const results = statements.map(statement => source.grantPrincipal.addToPrincipalPolicy(statement));
  if (results.some(r => !r.statementAdded)) {
    throw new Error(`${context}: describeCluster is true, but ${source.node.path} cannot take a policy (an immutable import, e.g. Role.fromRoleArn(..., { mutable: false })). Import it as mutable, add eks:DescribeCluster where its policies are managed, or leave describeCluster out.`);
  }
  return true;
}

/**
 * The IAM actions the EKS console needs to show a cluster's Kubernetes resources and
 * nodes, from the EKS User Guide, "View Kubernetes resources in the AWS Management
 * Console", "Required permissions" (read 2026-11-29), whose example grants them on `*`.
 * Here the actions whose request names a cluster are limited to this cluster (and
 * `DescribeNodegroup` to its node groups); `eks:ListClusters`, `eks:DescribeAddonVersions`
 * and `iam:ListRoles` do not name a cluster and keep `*`; `ssm:GetParameter` keeps the
 * example's scope (the account's parameters). Which resource types each action accepts is
 * not verified against IAM here.
 */
export function consoleStatements(clusterArn: string, clusterName: string, stack: Stack): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: ['eks:AccessKubernetesApi', 'eks:DescribeCluster', 'eks:ListAddons', 'eks:ListFargateProfiles', 'eks:ListIdentityProviderConfigs', 'eks:ListNodegroups', 'eks:ListUpdates'],
      resources: [clusterArn],
    }),
    new iam.PolicyStatement({
      actions: ['eks:DescribeNodegroup'],
      resources: [stack.formatArn({ service: 'eks', resource: 'nodegroup', resourceName: `${clusterName}/*` })],
    }),
    new iam.PolicyStatement({ actions: ['eks:DescribeAddonVersions', 'eks:ListClusters', 'iam:ListRoles'], resources: ['*'] }),
    new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [stack.formatArn({ service: 'ssm', region: '*', resource: 'parameter', resourceName: '*' })] }),
  ];
}

/** aws-cdk-lib's `ImmutableRole` (not exported): `addToPrincipalPolicy` on it reports success and drops the statement. */
function isImmutableImport(x: unknown): boolean {
  return (x as { constructor?: { PROPERTY_INJECTION_ID?: string } }).constructor?.PROPERTY_INJECTION_ID === 'aws-cdk-lib.aws-iam.ImmutableRole';
}

function isGrantable(x: unknown): x is iam.IGrantable {
  return typeof x === 'object' && x !== null && 'grantPrincipal' in x;
}
