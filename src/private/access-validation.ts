import { Annotations, CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { BoundPrincipal } from './bound-principal';
import { ERRORS, MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES, MAX_STACK_RESOURCES, WARNINGS } from './constants';
import { show } from './errors';
import { bootstrapsCreatorAdmin, existingAccessEntries, TargetCluster } from './target-cluster';
import { CLUSTER_ADMIN_POLICY } from '../access-entry/access-policies';
import { AccessLevel } from '../access-level';
import { AwsAuthModel } from '../aws-auth/model';
import { AbsorbedMapping } from '../aws-auth/reconciled-writer';

/** What the checks of one ClusterAccess read. */
export interface AccessValidationContext {
  /** the ClusterAccess (its stack, its annotations, its own resources) */
  readonly scope: Construct;
  readonly target: TargetCluster;
  readonly clusterName: string;
  readonly bound: readonly BoundPrincipal[];
  /** merge key of the model -> the levels granted to that principal */
  readonly levels: ReadonlyMap<string, AccessLevel[]>;
  readonly model: AwsAuthModel;
  /** aws-eks's mappings the aws-auth writer absorbed; undefined when the cluster reads no aws-auth */
  readonly absorbedMappings?: () => AbsorbedMapping[];
  /** how many access entries there are; undefined when the cluster reads no access entries */
  readonly accessEntryCount?: number;
  /** the library's custom resources of this cluster */
  readonly customResources: readonly CfnResource[];
}

/** A principal for messages: its ARN, or the construct path of a role or user whose ARN is a token. */
function describeBound(b: BoundPrincipal): string {
  return Token.isUnresolved(b.mappedArn) && b.source !== undefined ? `${b.source.node.path} (ARN known at deploy time)` : b.mappedArn;
}

/**
 * The checks of one ClusterAccess that need the whole app (run at synth, as validation):
 * an admin on an aws-eks-v2 cluster, one entry per principal, permission sets by name and
 * ARN, aws-eks's own aws-auth mappings, what access entries need and which principals
 * already have one, the 500-resource limit and the size of each custom resource.
 */
export function validateAccess(ctx: AccessValidationContext): string[] {
  const errors: string[] = validateHasAdmin(ctx);
  if (ctx.bound.length === 0) return errors; // nothing granted: nothing of ours to check
  const stack = Stack.of(ctx.scope);
  const resolvedKey = (arn: string) => JSON.stringify(stack.resolve(arn)).toLowerCase();

  // One entry per principal: two expressions that resolve to the same ARN would be two.
  const ours = new Map<string, BoundPrincipal>();
  for (const b of ctx.bound) {
    const key = resolvedKey(b.mappedArn);
    const other = ours.get(key);
    if (other) {
      errors.push(`${b.mappedArn} is granted through two different expressions (${show(stack.resolve(other.mappedArn))}); they would become two entries for one role or user (aws-iam-authenticator keeps only one; EKS refuses a second access entry). Grant it through one AccessPrincipal.`);
    }
    ours.set(key, b);
  }
  errors.push(...validateSsoByName(ctx));
  if (ctx.absorbedMappings) errors.push(...validateAwsAuth(ctx, resolvedKey));
  if (ctx.accessEntryCount !== undefined) errors.push(...validateAccessEntries(ctx, resolvedKey));

  // Every custom resource we add must stay under the size limit.
  for (const resource of ctx.customResources) {
    const bytes = Buffer.byteLength(JSON.stringify(stack.resolve((resource as any)._toCloudFormation())), 'utf8');
    if (bytes > MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES) {
      errors.push(`the custom resource ${resource.node.path} would be ${bytes} bytes in the template, over the ${MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES}-byte limit that keeps its UPDATE event under Lambda's 262,144-byte limit. Reduce the number of principals of this cluster (e.g. grant teams through one SSO permission set or one role each); grants of one cluster cannot be split across stacks yet.`);
    }
  }
  return errors;
}

/**
 * An aws-eks-v2 cluster defined in the app without the creator's bootstrap admin entry
 * must get an admin from the app: a `clusterAdmin()` grant, or another access entry with
 * `AmazonEKSClusterAdminPolicy` (aws-eks-v2's `mastersRole`, its kubectl provider, a
 * `grantAccess`). Otherwise nobody could manage it (the reconciler's own entry is a
 * Lambda's, not a person's).
 */
function validateHasAdmin(ctx: AccessValidationContext): string[] {
  if (!(ctx.target.v2 instanceof eksv2.Cluster) || bootstrapsCreatorAdmin(ctx.target) !== false) return [];
  if (Array.from(ctx.levels.values()).some(levels => levels.some(l => l.isClusterAdmin))) return [];
  const stack = Stack.of(ctx.scope);
  const name = JSON.stringify(stack.resolve(ctx.clusterName));
  const otherAdmin = stack.node.findAll().some(c => (c as { cfnResourceType?: string }).cfnResourceType === 'AWS::EKS::AccessEntry'
    && !c.node.scopes.includes(ctx.scope)
    && JSON.stringify(stack.resolve((c as eks.CfnAccessEntry).clusterName)) === name
    && JSON.stringify(stack.resolve((c as eks.CfnAccessEntry).accessPolicies) ?? []).includes(CLUSTER_ADMIN_POLICY));
  if (otherAdmin) return [];
  return [`[${ERRORS.clusterWithoutAdmin}] the aws-eks-v2 cluster ${ctx.target.construct.node.path} has bootstrapClusterCreatorAdminPermissions false and no cluster admin: no grant of AccessLevel.clusterAdmin() and no other access entry with ${CLUSTER_ADMIN_POLICY}, so nobody could manage it. Grant an admin, e.g. access.grantRole(opsRole, AccessLevel.clusterAdmin()).`];
}

/**
 * A permission set granted by name (looked up at deploy time) and by role ARN would be
 * two entries for one role; only the account tells whether they are the same role.
 */
function validateSsoByName(ctx: AccessValidationContext): string[] {
  const errors: string[] = [];
  const stackAccount = Stack.of(ctx.scope).account;
  for (const byName of ctx.bound.filter(b => b.byName)) {
    for (const literal of ctx.bound.filter(b => !b.byName && b.permissionSetName?.toLowerCase() === byName.permissionSetName!.toLowerCase())) {
      const account = Token.isUnresolved(literal.mappedArn) ? undefined : literal.mappedArn.split(':')[4];
      const message = `permission set ${show(byName.permissionSetName)} is granted both by name and by role ARN (${literal.mappedArn})`;
      if (!Token.isUnresolved(stackAccount) && account !== undefined && account !== stackAccount) continue; // another account's role
      if (Token.isUnresolved(stackAccount)) {
        Annotations.of(ctx.scope).addWarningV2(WARNINGS.ssoByNameAndArn, `${message}; if the stack deploys to account ${account}, they are the same role and aws-auth would get two entries for it. Grant it one way (by name survives re-provisioning).`);
      } else {
        errors.push(`${message} in account ${account}: that is the same role, and it would get two entries. Grant it one way: by name (survives re-provisioning) or by ARN.`);
      }
    }
  }
  return errors;
}

function validateAwsAuth(ctx: AccessValidationContext, resolvedKey: (arn: string) => string): string[] {
  const errors: string[] = [];
  for (const foreign of ctx.absorbedMappings!()) {
    const clash = ctx.bound.find(b => (b.source !== undefined && b.source === foreign.identity)
      || resolvedKey(b.mappedArn) === resolvedKey(foreign.arn));
    if (clash) {
      errors.push(`${foreign.identity.node.path} (${clash.mappedArn}) is already mapped in aws-auth by aws-eks (a node group, Fargate profile, mastersRole or awsAuth.addRoleMapping call); granting it too would create a second entry for the same ARN, and aws-iam-authenticator keeps only one of them, dropping groups. Remove the grant, or map it only through cdk-eks-access.`);
    }
  }
  return errors;
}

function validateAccessEntries(ctx: AccessValidationContext, resolvedKey: (arn: string) => string): string[] {
  const errors: string[] = [];
  const stack = Stack.of(ctx.scope);
  for (const entry of ctx.model.all()) {
    if (entry.fullArn === undefined) {
      errors.push(`${entry.arn} has no known full ARN, and access entries (AuthenticationMode ${ctx.target.authenticationMode}) need the principal's real ARN with its IAM path, which cannot be rebuilt. For an IAM Identity Center role, give the role ARN as IAM shows it (…:role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_<set>_<hex>); for AccessPrincipal.fromRoleName(), use AccessPrincipal.fromRoleArn() with the full ARN.`);
    }
    if (entry.conflictingFullArns.length > 0) {
      errors.push(`${entry.arn} is granted with different IAM paths (${entry.conflictingFullArns.join(', ')}); a role or user has one path, and its access entry needs the right one. Use the ARN as IAM shows it in every grant.`);
    }
  }
  // Entries EKS or aws-eks(-v2) create themselves: EKS allows one access entry per principal.
  const reported = new Set<BoundPrincipal>();
  for (const t of existingAccessEntries(ctx.target)) {
    const clash = ctx.bound.find(b => !reported.has(b) && ((t.role !== undefined && b.source === t.role)
      || (b.fullArn !== undefined && resolvedKey(b.fullArn) === resolvedKey(t.arn))
      || resolvedKey(b.mappedArn) === resolvedKey(t.arn)));
    if (clash) {
      reported.add(clash);
      errors.push(`[${ERRORS.principalHasAccessEntry}] ${describeBound(clash)} already has an access entry from ${t.what}; EKS allows one access entry per principal, so the deploy would fail with "ResourceInUseException: The specified access entry resource is already in use on this cluster". Remove the grant (that principal's access comes from the other entry).`);
    }
  }
  // CloudFormation allows 500 resources per stack; each principal is one access entry.
  const count = stack.node.findAll().filter(c => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length;
  if (count > MAX_STACK_RESOURCES) {
    errors.push(`the stack ${stack.stackName} would have ${count} resources, over CloudFormation's ${MAX_STACK_RESOURCES}; ${ctx.accessEntryCount} of them are access entries (one per principal). Grant groups of people through shared roles or SSO permission sets, or move other resources out of this stack; grants of one cluster cannot be split across stacks yet.`);
  }
  return errors;
}
