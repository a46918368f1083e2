/** Partitions that aws-iam-authenticator accepts in ARNs. */
export const PARTITIONS: readonly string[] = [
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-e',
  'aws-iso-f',
  'aws-eusc',
];

/**
 * Username and group prefixes that EKS reserves for itself. Checked in every
 * authentication mode so that switching modes never breaks synthesis.
 */
export const RESERVED_PREFIXES: readonly string[] = ['system:', 'eks:', 'aws:', 'amazon:', 'iam:'];

/** Prefix of every group and RBAC object name this library derives. */
export const LIBRARY_PREFIX = 'cdk-eks-access';

/** Label put on every RBAC object this library generates. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** Namespaces that always exist on an EKS cluster; the library never creates them. */
export const BUILT_IN_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * Ceiling for the serialized properties of every custom resource the library creates.
 * An UPDATE event carries old and new properties and has long been limited to
 * 262,144 bytes as an asynchronous Lambda event; staying under 120,000 keeps both halves
 * (plus the event envelope) under that limit.
 */
export const MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES = 120_000;

/** CloudFormation's limit of resources per stack. */
export const MAX_STACK_RESOURCES = 500;

/** Target size of one RBAC chunk's manifest (as serialized in the template). */
export const RBAC_CHUNK_TARGET_BYTES = 90_000;

/** Stable ids of the warnings this library emits (for `Annotations` acknowledgement). */
export const WARNINGS = {
  adminPrincipalIsAccountRoot: 'cdk-eks-access:adminPrincipalIsAccountRoot',
  crossPartitionPrincipal: 'cdk-eks-access:crossPartitionPrincipal',
  unsupportedKubernetesVersionForEks: 'cdk-eks-access:kubernetesVersionOutOfSupport',
  authenticationModeOneWay: 'cdk-eks-access:authenticationModeOneWay',
  ssoByNameAndArn: 'cdk-eks-access:ssoPermissionSetByNameAndArn',
  importedKubectlRoleTrust: 'cdk-eks-access:importedKubectlRoleTrust',
  importedAuthenticationMode: 'cdk-eks-access:importedClusterAuthenticationMode',
  bootstrapCreatorAdmin: 'cdk-eks-access:bootstrapClusterCreatorAdmin',
  adminPolicyCannotDelegate: 'cdk-eks-access:adminPolicyCannotDelegate',
  namespacePatternCoversSystemNamespaces: 'cdk-eks-access:namespacePatternCoversSystemNamespaces',
};

/** Stable ids of the library's synth errors (in the message, so users can search for them and tests can match them). */
export const ERRORS = {
  twoWritersForOneCluster: 'cdk-eks-access:twoClusterAccessForOneCluster',
  principalHasAccessEntry: 'cdk-eks-access:principalAlreadyHasAccessEntry',
  clusterWithoutAdmin: 'cdk-eks-access:clusterWithoutAdmin',
  wrongClusterModule: 'cdk-eks-access:wrongClusterModule',
  optionsDiffer: 'cdk-eks-access:clusterAccessOptionsDiffer',
  accessPolicyNeedsAccessEntries: 'cdk-eks-access:accessPolicyNeedsAccessEntries',
  namespacePatternAsRbac: 'cdk-eks-access:namespacePatternWrittenAsRbac',
  reservedEksGroup: 'cdk-eks-access:reservedEksGroupInAwsAuthMapping',
  consoleAccessForExistingGroups: 'cdk-eks-access:consoleAccessForExistingGroups',
  characterAwsAuthCannotHold: 'cdk-eks-access:characterAwsAuthCannotHold',
  configMapWithoutCreatorAdmin: 'cdk-eks-access:configMapClusterWithoutCreatorAdmin',
};
