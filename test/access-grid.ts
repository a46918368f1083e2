/**
 * The grid of questions `canI` is checked over: verbs, and resources with their API groups
 * (subresources included), as access policies, RBAC and the real API server see them
 * (test/access-policy-equivalence.test.ts, test/real/can-i.test.ts).
 */
export const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'impersonate', 'bind', 'escalate'];
export const RESOURCES: Array<[string, string]> = [
  ['', 'pods'], ['', 'pods/log'], ['', 'pods/exec'], ['', 'pods/eviction'], ['', 'secrets'], ['', 'configmaps'], ['', 'services'],
  ['', 'serviceaccounts'], ['', 'serviceaccounts/token'], ['', 'namespaces'], ['', 'nodes'], ['', 'events'], ['', 'endpoints'],
  ['', 'persistentvolumeclaims'], ['', 'persistentvolumes'], ['', 'resourcequotas'], ['apps', 'deployments'], ['apps', 'deployments/scale'],
  ['apps', 'statefulsets'], ['batch', 'jobs'], ['batch', 'cronjobs'], ['autoscaling', 'horizontalpodautoscalers'], ['policy', 'poddisruptionbudgets'],
  ['networking.k8s.io', 'ingresses'], ['networking.k8s.io', 'networkpolicies'], ['discovery.k8s.io', 'endpointslices'],
  ['rbac.authorization.k8s.io', 'roles'], ['rbac.authorization.k8s.io', 'rolebindings'], ['rbac.authorization.k8s.io', 'clusterroles'],
  ['coordination.k8s.io', 'leases'], ['authorization.k8s.io', 'localsubjectaccessreviews'], ['storage.k8s.io', 'storageclasses'],
  ['apiextensions.k8s.io', 'customresourcedefinitions'], ['example.com', 'widgets'],
];
