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
 * @returns whether the statement was added (false when not asked for)
 * @throws when asked for a principal the app cannot attach a policy to
 */
export function grantDescribeCluster(
  scope: Construct, bound: BoundPrincipal, clusterArn: string, asked: boolean | undefined, context: string,
): boolean {
  const source = bound.source;
  const created = source instanceof iam.Role || source instanceof iam.User;
  if (!(asked ?? created)) return false;
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
    const policy = new iam.Policy(scope, `DescribeCluster${sha256Hex(source.node.path).slice(0, 8)}`, {
      statements: [new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [clusterArn] })],
    });
    if (bound.type === AccessPrincipalType.USER) policy.attachToUser(source as unknown as iam.IUser);
    else policy.attachToRole(source as unknown as iam.IRole);
    return true;
  }
  const result = iam.Grant.addToPrincipal({ grantee: source, actions: ['eks:DescribeCluster'], resourceArns: [clusterArn] });
  if (!result.success) {
    throw new Error(`${context}: describeCluster is true, but ${source.node.path} cannot take a policy (an immutable import, e.g. Role.fromRoleArn(..., { mutable: false })). Import it as mutable, add eks:DescribeCluster where its policies are managed, or leave describeCluster out.`);
  }
  return true;
}

/** aws-cdk-lib's `ImmutableRole` (not exported): `addToPrincipalPolicy` on it reports success and drops the statement. */
function isImmutableImport(x: unknown): boolean {
  return (x as { constructor?: { PROPERTY_INJECTION_ID?: string } }).constructor?.PROPERTY_INJECTION_ID === 'aws-cdk-lib.aws-iam.ImmutableRole';
}

function isGrantable(x: unknown): x is iam.IGrantable {
  return typeof x === 'object' && x !== null && 'grantPrincipal' in x;
}
