/**
 * What the constructs and the reconciler handler agree on: custom-resource types,
 * property names, and how ownership is written on the cluster. Plain TypeScript only
 * (it is bundled into the handler).
 */

/** Merges this stack's entries into aws-auth (never deletes the ConfigMap). */
export const AWS_AUTH_RESOURCE_TYPE = 'Custom::CdkEksAccessAwsAuth';
/** Creates namespaces when absent (never deletes one). */
export const NAMESPACES_RESOURCE_TYPE = 'Custom::CdkEksAccessNamespaces';
/** Applies RBAC objects; removes the ones it owned that its properties no longer hold. */
export const RBAC_RESOURCE_TYPE = 'Custom::CdkEksAccessRbac';

/** How the handler reaches the cluster (properties of every reconciler resource). */
export interface ClusterConnection {
  readonly ClusterName: string;
  /**
   * A role with cluster admin (system:masters, or an access entry with
   * AmazonEKSClusterAdminPolicy) that the handler assumes for its EKS token.
   * @default - the handler signs its token as itself (its execution role has an access entry)
   */
  readonly RoleArn?: string;
  // The endpoint and CA are never properties: the handler asks eks:DescribeCluster of
  // ClusterName on every event (it sends a cluster-admin token there). Properties named
  // Endpoint or CertificateAuthorityData (templates of earlier versions) are ignored.
}

/** One aws-auth entry (`rolearn` in MapRoles, `userarn` in MapUsers). */
export interface AwsAuthEntry {
  readonly rolearn?: string;
  readonly userarn?: string;
  readonly username?: string;
  readonly groups?: string[];
}

export interface AwsAuthProperties extends ClusterConnection {
  readonly MapRoles: AwsAuthEntry[];
  readonly MapUsers: AwsAuthEntry[];
  /**
   * The prune label of the aws-eks manifest that wrote aws-auth for this stack before
   * the reconciler took over (see `PlanOptions.legacyPruneLabel`). @default - none
   */
  readonly LegacyPruneLabel?: string;
}

export interface NamespacesProperties extends ClusterConnection {
  readonly Namespaces: string[];
}

export interface RbacProperties extends ClusterConnection {
  /** Kubernetes objects as plain JSON (Role, RoleBinding, ClusterRole, ClusterRoleBinding). */
  readonly Objects: Array<Record<string, any>>;
}

/**
 * Ownership annotations: `owner.cdk-eks-access.io/<owner id>` on the aws-auth ConfigMap
 * (value: JSON with the stack, the logical id and the ARNs that owner wrote) and on
 * every RBAC object (value: JSON with the stack and the logical id). The owner id is the
 * custom resource's physical id, so a resource that CloudFormation replaces (a new
 * logical id) is a new owner, and the old one's delete only removes what is still its own.
 */
export const OWNER_ANNOTATION_PREFIX = 'owner.cdk-eks-access.io/';

/** The label every object the library creates carries, with the value `cdk-eks-access`. */
export { MANAGED_BY_LABEL, LIBRARY_PREFIX as MANAGED_BY_VALUE } from '../../private/constants';
