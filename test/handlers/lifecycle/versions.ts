/**
 * Stack versions: what one stack declares for one cluster, in the shape the library
 * synthesizes (reconciler era) or the shape aws-eks / the previous release left behind.
 */

export type KubeObject = Record<string, any>;

export interface Entry {
  readonly rolearn?: string;
  readonly userarn?: string;
  readonly username: string;
  readonly groups: string[];
}

export const ACCOUNT = '111122223333';
export const CLUSTER = 'c1';
export const KUBECTL_ROLE = `arn:aws:iam::${ACCOUNT}:role/KubectlRole`;
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'cdk-eks-access' };
export const LEGACY_PRUNE_LABEL = 'aws.cdk.eks/prune-c8c5b8e2a1f3d4e5f60718293a4b5c6d7e8f901234';
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export const ADMIN: Entry = { rolearn: `arn:aws:iam::${ACCOUNT}:role/Admin`, username: 'admin:{{SessionName}}', groups: ['system:masters'] };
export const NODE_ROLES = {
  linux: { rolearn: `arn:aws:iam::${ACCOUNT}:role/NodeInstanceRole`, username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:bootstrappers', 'system:nodes'] },
  windows: { rolearn: `arn:aws:iam::${ACCOUNT}:role/WindowsNodeRole`, username: 'system:node:{{EC2PrivateDNSName}}', groups: ['eks:kube-proxy-windows', 'system:bootstrappers', 'system:nodes'] },
} as const;
export type NodeGroup = keyof typeof NODE_ROLES;

export const SSO_ROLE = `arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_Dev_0123456789abcdef`;

/** The pool of principals versions grant to. */
export const POOL: Array<{ kind: 'role' | 'user'; arn: string; username: string }> = [
  { kind: 'role', arn: `arn:aws:iam::${ACCOUNT}:role/Dev`, username: 'role:Dev:{{SessionName}}' },
  { kind: 'role', arn: `arn:aws:iam::${ACCOUNT}:role/QA`, username: 'role:QA:{{SessionName}}' },
  { kind: 'role', arn: `arn:aws:iam::${ACCOUNT}:role/CI`, username: 'role:CI:{{SessionName}}' },
  { kind: 'role', arn: `arn:aws:iam::${ACCOUNT}:role/Deployer`, username: 'role:Deployer:{{SessionName}}' },
  { kind: 'role', arn: SSO_ROLE, username: 'sso:{{SessionName}}' },
  { kind: 'role', arn: `arn:aws:iam::${ACCOUNT}:role/Auditor`, username: 'role:Auditor:{{SessionName}}' },
  { kind: 'user', arn: `arn:aws:iam::${ACCOUNT}:user/people/alice`, username: 'user:alice' },
  { kind: 'user', arn: `arn:aws:iam::${ACCOUNT}:user/bob`, username: 'user:bob' },
];

export const LEVELS = ['admin', 'cluster-view', 'edit:team-a', 'view:team-a', 'view:team-b', 'edit:team-b'] as const;
export type Level = typeof LEVELS[number];

/** What a generated version is made of (the fast-check value). */
export interface VersionSpec {
  /** [pool index, level], at most one per principal. */
  readonly grants: Array<[number, Level]>;
  /** The aws-auth resource's logical id (a change is a replacement). */
  readonly awsAuthLogicalId: string;
  readonly rbacChunks: 1 | 2;
  /** Chunks under other logical ids (replacements). */
  readonly rbacRenamed: boolean;
}

export type Era = 'reconciler' | 'aws-eks' | 'previous-release';

export interface Version {
  readonly era: Era;
  readonly clusterName: string;
  readonly awsAuthLogicalId: string;
  readonly mapRoles: Entry[];
  readonly mapUsers: Entry[];
  readonly legacyPruneLabel?: string;
  readonly namespaces: string[];
  readonly rbac: Array<{ logicalId: string; objects: KubeObject[] }>;
}

export function groupOf(level: Level): string {
  if (level === 'admin') return 'system:masters';
  if (level === 'cluster-view') return 'cdk-eks-access:cluster-view';
  const [verb, ns] = level.split(':');
  return `cdk-eks-access:${ns}:${verb}`;
}

export function bindingFor(level: Level): KubeObject | undefined {
  if (level === 'admin') return undefined;
  const group = groupOf(level);
  const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }];
  if (level === 'cluster-view') {
    return {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: group, labels: { ...MANAGED_BY } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects,
    };
  }
  const [verb, ns] = level.split(':');
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: group, namespace: ns, labels: { ...MANAGED_BY } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: verb },
    subjects,
  };
}

function hash(s: string): number {
  let h = 7;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) % 4294967296;
  return h;
}

export function buildVersion(spec: VersionSpec, nodeGroups: NodeGroup[], era: Era = 'reconciler', legacy = false): Version {
  const seen = new Set<number>();
  const grants = spec.grants.filter(([i]) => !seen.has(i) && seen.add(i) !== undefined);
  const mapRoles: Entry[] = [
    ...nodeGroups.map(n => ({ ...NODE_ROLES[n], groups: [...NODE_ROLES[n].groups] })),
    { ...ADMIN, groups: [...ADMIN.groups] },
  ];
  const mapUsers: Entry[] = [];
  const objects = new Map<string, KubeObject>();
  for (const [i, level] of grants) {
    const p = POOL[i];
    const entry = { [p.kind === 'role' ? 'rolearn' : 'userarn']: p.arn, username: p.username, groups: [groupOf(level)] } as Entry;
    (p.kind === 'role' ? mapRoles : mapUsers).push(entry);
    const binding = bindingFor(level);
    if (binding) objects.set(binding.metadata.name + '/' + binding.kind, binding);
  }
  const sorted = Array.from(objects.values()).sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
  const chunks: Array<{ logicalId: string; objects: KubeObject[] }> = [];
  for (let c = 0; c < spec.rbacChunks; c++) {
    const objs = sorted.filter(o => hash(`${o.metadata.namespace ?? ''}/${o.metadata.name}`) % spec.rbacChunks === c);
    if (objs.length > 0) chunks.push({ logicalId: `${spec.rbacRenamed ? 'RbacChunk' : 'Rbac'}${c}`, objects: objs });
  }
  const namespaces = Array.from(new Set(sorted.map(o => o.metadata.namespace).filter((n): n is string => !!n))).sort();
  return {
    era,
    clusterName: CLUSTER,
    awsAuthLogicalId: spec.awsAuthLogicalId,
    mapRoles,
    mapUsers,
    legacyPruneLabel: era === 'reconciler' && legacy ? LEGACY_PRUNE_LABEL : undefined,
    // plain aws-eks wrote aws-auth only; RBAC came with the previous release or the reconciler
    namespaces: era === 'aws-eks' ? [] : namespaces,
    rbac: era === 'aws-eks' ? [] : chunks,
  };
}

export function arnOf(e: Entry): string {
  return (e.rolearn ?? e.userarn)!;
}

export function objectKey(o: KubeObject): string {
  return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
}

export function objectPath(o: KubeObject): string {
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  const enc = encodeURIComponent;
  switch (o.kind) {
    case 'Namespace': return `/api/v1/namespaces/${enc(o.metadata.name)}`;
    case 'ConfigMap': return `/api/v1/namespaces/${enc(o.metadata.namespace)}/configmaps/${enc(o.metadata.name)}`;
    case 'Role': return `${rbac}/namespaces/${enc(o.metadata.namespace)}/roles/${enc(o.metadata.name)}`;
    case 'RoleBinding': return `${rbac}/namespaces/${enc(o.metadata.namespace)}/rolebindings/${enc(o.metadata.name)}`;
    case 'ClusterRole': return `${rbac}/clusterroles/${enc(o.metadata.name)}`;
    case 'ClusterRoleBinding': return `${rbac}/clusterrolebindings/${enc(o.metadata.name)}`;
    default: throw new Error(`no path for ${o.kind}`);
  }
}

/** What the oracle compares of an RBAC object: everything but metadata. */
export function objectContent(o: KubeObject | undefined): string | undefined {
  if (!o) return undefined;
  const { metadata: _m, status: _s, ...rest } = o;
  const sortKeys = (v: any): any => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object'
    ? Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys(v[k])])) : v);
  return JSON.stringify(sortKeys(rest));
}
