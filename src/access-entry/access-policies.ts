import { AccessLevel } from '../access-level';

/**
 * The EKS access policies that stand for the built-in levels, and how several grants to
 * one principal merge into one association per policy.
 *
 * Source: Amazon EKS User Guide, "Associate access policies with access entries" and
 * "Review access policy permissions" (docs.aws.amazon.com/eks/latest/userguide/access-policies.html,
 * .../access-policy-permissions.html), read 2026-11-29: one association per policy and
 * access entry, each with its own scope (`cluster`, or `namespace` with a list of
 * namespaces, where a trailing `*` matches by prefix, e.g. `dev-*`); EKS does not check
 * that the namespaces exist.
 */

/** `AmazonEKSClusterAdminPolicy`: what `system:masters` is in aws-auth. */
export const CLUSTER_ADMIN_POLICY = 'AmazonEKSClusterAdminPolicy';

/** The access policy and scope of one built-in level. */
export interface PolicyScope {
  readonly policy: string;
  /** undefined: cluster scope */
  readonly namespace?: string;
}

const BY_LEVEL: Record<string, string> = {
  'cluster-admin': CLUSTER_ADMIN_POLICY,
  'cluster-view': 'AmazonEKSViewPolicy',
  'namespace-view': 'AmazonEKSViewPolicy',
  'namespace-edit': 'AmazonEKSEditPolicy',
  'namespace-admin': 'AmazonEKSAdminPolicy',
};

/** The access policy of a built-in level; undefined for custom levels and levels of groups only. */
export function accessPolicyOf(level: AccessLevel): PolicyScope | undefined {
  const policy = BY_LEVEL[level.name];
  if (policy === undefined) return undefined;
  return level.namespaceName !== undefined ? { policy, namespace: level.namespaceName } : { policy };
}

/** One association of an access entry: a policy with cluster scope, or with its namespaces. */
export interface Association {
  readonly policy: string;
  /** sorted; undefined: cluster scope */
  readonly namespaces?: string[];
}

/**
 * One association per policy (EKS allows each policy once per entry): the union of the
 * namespaces, or cluster scope when any grant of that policy is cluster-wide. Sorted by
 * policy name, so the template does not depend on the order of grants.
 */
export function mergeAssociations(scopes: readonly PolicyScope[]): Association[] {
  const byPolicy = new Map<string, Set<string> | 'cluster'>();
  for (const s of scopes) {
    const current = byPolicy.get(s.policy);
    if (s.namespace === undefined || current === 'cluster') byPolicy.set(s.policy, 'cluster');
    else byPolicy.set(s.policy, new Set([...(current ?? []), s.namespace]));
  }
  return Array.from(byPolicy.keys()).sort().map(policy => {
    const scope = byPolicy.get(policy)!;
    return scope === 'cluster' ? { policy } : { policy, namespaces: Array.from(scope).sort() };
  });
}

/** The ARN of an EKS access policy (`arn:<partition>:eks::aws:cluster-access-policy/<name>`). */
export function accessPolicyArn(partition: string, policy: string): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/${policy}`;
}
