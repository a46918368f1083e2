import { LIBRARY_PREFIX, MANAGED_BY_LABEL } from '../private/constants';

/** A Kubernetes object as plain JSON. */
export type KubeObject = Record<string, any>;

/** A normalized RBAC rule (arrays sorted and de-duplicated, empty ones left out). */
export interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';

function metadata(name: string, namespace?: string) {
  return {
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    labels: { [MANAGED_BY_LABEL]: LIBRARY_PREFIX },
  };
}

function groupSubject(group: string) {
  return [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }];
}

export function role(namespace: string, name: string, rules: RbacRule[]): KubeObject {
  return { apiVersion: RBAC_API, kind: 'Role', metadata: metadata(name, namespace), rules };
}

export function clusterRole(name: string, rules: RbacRule[]): KubeObject {
  return { apiVersion: RBAC_API, kind: 'ClusterRole', metadata: metadata(name), rules };
}

/** A RoleBinding of `group` to a Role (`roleKind: 'Role'`) or a ClusterRole in `namespace`. */
export function roleBinding(namespace: string, name: string, roleKind: 'Role' | 'ClusterRole', roleName: string, group: string): KubeObject {
  return {
    apiVersion: RBAC_API,
    kind: 'RoleBinding',
    metadata: metadata(name, namespace),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
    subjects: groupSubject(group),
  };
}

export function clusterRoleBinding(name: string, clusterRoleName: string, group: string): KubeObject {
  return {
    apiVersion: RBAC_API,
    kind: 'ClusterRoleBinding',
    metadata: metadata(name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName },
    subjects: groupSubject(group),
  };
}

/**
 * What aws-eks's aws-auth manifest writes instead of aws-auth once the reconciler owns
 * aws-auth: a note, so the resource that used to hold aws-auth has something harmless to apply.
 */
export const HANDOVER_CONFIG_MAP: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cdk-eks-access-aws-auth-handover', namespace: 'kube-system', labels: { [MANAGED_BY_LABEL]: LIBRARY_PREFIX } },
  data: { note: 'aws-auth is written by the cdk-eks-access reconciler (Custom::CdkEksAccessAwsAuth), which merges its own entries. This ConfigMap stands in for aws-eks\'s aws-auth manifest, so that removing that manifest never deletes aws-auth.' },
};

/** A Namespace object. Left without labels: applying it to an existing namespace changes as little as possible. */
export function namespaceObject(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** Identity of an object in a cluster: kind, namespace and name. */
export function objectKey(obj: KubeObject): string {
  return `${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
}
