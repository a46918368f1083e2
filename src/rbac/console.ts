import { clusterRole, clusterRoleBinding, KubeObject, RbacRule, roleBinding } from './objects';
import { LIBRARY_PREFIX } from '../private/constants';

/**
 * The RBAC the EKS console needs to show a principal what its level lets it read.
 *
 * Source: Amazon EKS User Guide, "View Kubernetes resources in the AWS Management Console",
 * section "Required permissions" (awsdocs/amazon-eks-user-guide,
 * latest/ug/manage-access/view-kubernetes-resources.adoc, read 2026-11-29). It points to two
 * manifests AWS publishes, `eks-console-full-access.yaml` (a ClusterRole and
 * ClusterRoleBinding) and `eks-console-restricted-access.yaml` (cluster-scoped read of
 * nodes and namespaces, plus a Role in one namespace). Those files cannot be fetched here;
 * the rules below are written from their content as public repositories reproduce it
 * (get and list of the listed resources), with one deliberate change: **Secrets are left
 * out** (the full-access manifest reads them), so console access never lets a level read
 * Secrets it could not read before.
 */
const READ = ['get', 'list'];

/** Cluster-scoped: what the console's Compute tab and namespace picker list. */
export const CONSOLE_CLUSTER_RULES: RbacRule[] = [
  { apiGroups: [''], resources: ['namespaces', 'nodes'], verbs: READ },
];

/** Namespaced: the resource types of the console's Resources tab. */
export const CONSOLE_NAMESPACED_RULES: RbacRule[] = [
  { apiGroups: [''], resources: ['configmaps', 'endpoints', 'events', 'limitranges', 'persistentvolumeclaims', 'podtemplates', 'pods', 'replicationcontrollers', 'resourcequotas', 'serviceaccounts', 'services'], verbs: READ },
  { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], verbs: READ },
  { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: READ },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  { apiGroups: ['extensions'], resources: ['daemonsets', 'deployments', 'ingresses', 'networkpolicies', 'replicasets'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: READ },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: READ },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings', 'roles'], verbs: READ },
  { apiGroups: ['storage.k8s.io'], resources: ['csistoragecapacities'], verbs: READ },
];

const CLUSTER_READ = `${LIBRARY_PREFIX}:console-cluster-read`;
const NAMESPACED_READ = `${LIBRARY_PREFIX}:console-read`;

/** The groups and objects of console access for a level's scope (a namespace, or the whole cluster). */
export function consoleAccess(namespace: string | undefined): { groups: string[]; objects: KubeObject[] } {
  const clusterGroup = `${LIBRARY_PREFIX}:console`;
  const scopeGroup = namespace !== undefined ? `${LIBRARY_PREFIX}:${namespace}:console` : `${LIBRARY_PREFIX}:cluster-console`;
  return {
    groups: [clusterGroup, scopeGroup],
    objects: [
      clusterRole(CLUSTER_READ, CONSOLE_CLUSTER_RULES),
      clusterRoleBinding(CLUSTER_READ, CLUSTER_READ, clusterGroup),
      clusterRole(NAMESPACED_READ, CONSOLE_NAMESPACED_RULES),
      namespace !== undefined
        ? roleBinding(namespace, NAMESPACED_READ, 'ClusterRole', NAMESPACED_READ, scopeGroup)
        : clusterRoleBinding(`${LIBRARY_PREFIX}:cluster-console`, NAMESPACED_READ, scopeGroup),
    ],
  };
}
