import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** How the built-in levels (all but `AccessLevel.custom()`) are written into a cluster. */
export enum BuiltInLevelBackend {
  /**
   * EKS access policies on each principal's access entry: `AmazonEKSClusterAdminPolicy`,
   * `AmazonEKSViewPolicy`, `AmazonEKSEditPolicy`, `AmazonEKSAdminPolicy`, scoped to the
   * cluster or to the level's namespaces. Needs no Lambda, no kubectl and no custom
   * resource. Only in the API authentication mode (and API_AND_CONFIG_MAP, where aws-auth
   * still gets the RBAC form). Differences from RBAC: the policies' rules are fixed by EKS
   * (no aggregated CRD permissions), `kubectl auth can-i --list` does not show them, and
   * impersonation (`--as`, `--as-group`) leaves them out.
   */
  ACCESS_POLICY = 'ACCESS_POLICY',

  /**
   * Kubernetes groups on the aws-auth entry and/or access entry, bound by generated RBAC
   * objects (RoleBindings to the built-in `view`, `edit`, `admin` ClusterRoles), written by
   * the library's reconciler (a Lambda function).
   */
  RBAC = 'RBAC',
}

/** Options for `ClusterAccess.of()` and `ClusterAccess.ofV2()`. */
export interface ClusterAccessOptions {
  /**
   * How built-in levels are written. `ACCESS_POLICY` needs access entries (API or
   * API_AND_CONFIG_MAP authentication mode); choosing it on a CONFIG_MAP cluster throws.
   * `clusterAdmin()` is `AmazonEKSClusterAdminPolicy` in access entries either way.
   *
   * @default - `ACCESS_POLICY` on aws-eks-v2 clusters; `RBAC` on aws-eks clusters
   */
  readonly builtInLevelBackend?: BuiltInLevelBackend;

  /**
   * Whether the namespaces that grants name are created when absent (never deleted).
   * With access policies, EKS does not check that a scoped namespace exists; creating it
   * takes the reconciler (a Lambda function and a custom resource).
   *
   * @default - true where built-in levels are written as RBAC; false with access policies
   */
  readonly createNamespaces?: boolean;

  /**
   * Subnets the reconciler Lambda runs in, on aws-eks-v2 clusters (on aws-eks clusters it
   * runs where the cluster's kubectl handler runs). The function gets the cluster security
   * group, which EKS lets reach the private endpoint.
   *
   * @default - outside any VPC when the endpoint is public (EKS's default, public and
   * private); the cluster VPC's private subnets when the cluster is defined in the app with
   * a private endpoint
   */
  readonly reconcilerSubnets?: ec2.SubnetSelection;
}
