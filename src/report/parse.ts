import { KubeObject } from '../rbac/objects';

/** Where an access came from. */
export type Backend = 'aws-auth' | 'access-entry';

/** One IAM principal of a cluster, from aws-auth and/or access entries. */
export interface ParsedPrincipal {
  /**
   * The ARN as written (path-less in aws-auth; with path in access entries), a role or user
   * of the app by its name or construct path (`<Stack/Deployer>`).
   */
  arn: string;
  /** The same ARN as the template writes it (`${LogicalId}` for a role or user of the template), for matching its references. */
  templateArn: string;
  /** Whether the principal is an IAM user (its ARN, or the template's resource behind its ARN, says so). */
  isUser: boolean;
  /** Lower-case identity aws-iam-authenticator matches on (path-less role ARN, user ARN with path). */
  identity: string;
  /** A readable name: the ARN, or `sso:<name>` for a permission set looked up by name. */
  display: string;
  /** A permission-set name when the role is an IAM Identity Center role. */
  permissionSetName?: string;
  username: string;
  groups: string[];
  backends: Backend[];
  /** AmazonEKSClusterAdminPolicy on the access entry. */
  clusterAdminPolicy: boolean;
  /** The access policies of the access entry (namespaces undefined: cluster scope). */
  accessPolicies: Array<{ policy: string; namespaces?: string[] }>;
  /** The groups of the access entry alone (EKS uses them, not aws-auth's, when both exist). */
  accessEntryGroups: string[];
  /** Whether the template gives the role or user `eks:DescribeCluster` on this cluster. */
  describeCluster: boolean;
}

/** A raw aws-auth or access-entry row, for findings. */
export interface RawEntry {
  backend: Backend;
  arn: string;
  username: string;
  groups: string[];
}

/** One EKS cluster of a synthesized template. */
export interface ParsedCluster {
  /** `<stack>/<logical id>` */
  id: string;
  /** The cluster's name as the template renders it (`${LogicalId}` when generated at deploy time). */
  name: string;
  /** The cluster's ARN as the template renders it. */
  arn: string;
  authenticationMode: string;
  principals: ParsedPrincipal[];
  raw: RawEntry[];
  objects: KubeObject[];
}

/**
 * Renders a CloudFormation value as a string: Fn::Join over literals, refs as ${X},
 * attributes as ${X.Attr}. `names` replaces a `Ref` to X (key `X`) or an attribute
 * (key `X.Attr`) by a readable text: the name or construct path of a role created in the app.
 */
export function render(value: unknown, names?: ReadonlyMap<string, string>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const v = value as Record<string, any>;
  if (v && v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(x => render(x, names)).join(v['Fn::Join'][0]);
  if (v && v.Ref) return names?.get(v.Ref) ?? `\${${v.Ref}}`;
  if (v && v['Fn::GetAtt']) {
    const key = (v['Fn::GetAtt'] as string[]).join('.');
    return names?.get(key) ?? `\${${key}}`;
  }
  if (v && v['Fn::ImportValue']) return `\${Import:${render(v['Fn::ImportValue'], names)}}`;
  if (v && v['Fn::Sub']) return String(v['Fn::Sub']);
  return JSON.stringify(value);
}

/**
 * How a role or user created in the app reads (a `Ref` is its name, `Fn::GetAtt …Arn` its
 * ARN): its literal name when the template sets one, else its construct path
 * (`aws:cdk:path` metadata, without `/Resource`), else its logical id, in angle brackets
 * (`<EksAccessExample/Deployer>`, known at deploy time).
 */
export function readableNames(resources: Record<string, any>, paths?: ReadonlyMap<string, string>): Map<string, string> {
  const names = new Map<string, string>();
  for (const [id, res] of Object.entries(resources)) {
    const type = res?.Type;
    if (type !== 'AWS::IAM::Role' && type !== 'AWS::IAM::User') continue;
    const literal = res.Properties?.[type === 'AWS::IAM::Role' ? 'RoleName' : 'UserName'];
    const cdkPath = res.Metadata?.['aws:cdk:path'] ?? paths?.get(id);
    const name = typeof literal === 'string' ? literal
      : `<${typeof cdkPath === 'string' ? cdkPath.replace(/\/Resource$/, '') : id}>`;
    names.set(id, name);
    names.set(`${id}.Arn`, typeof literal === 'string' ? `<ARN of ${literal}>` : `<ARN of ${name.slice(1, -1)}>`);
  }
  return names;
}

const SSO_ROLE_NAME = /^AWSReservedSSO_([\w+=,.@-]{1,32})_[0-9a-fA-F]{16}$/;

/**
 * The identity aws-iam-authenticator matches: an assumed-role session ARN becomes its
 * role ARN, a role ARN loses its path, a user ARN keeps it; compared case-insensitively.
 */
export function identityOf(arn: string): string {
  const session = /^arn:([^:]+):sts::([^:]*):assumed-role\/([^/]+)\/.*$/.exec(arn);
  if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`.toLowerCase();
  const role = /^(arn:[^:]+:iam::[^:]*:role\/)(?:.*\/)?([^/]+)$/.exec(arn);
  return (role ? role[1] + role[2] : arn).toLowerCase();
}

/** The permission-set name of an SSO role ARN (or session ARN), if it is one. */
export function permissionSetOf(arn: string): string | undefined {
  const name = /:(?:role|assumed-role)\/(?:.*\/)?(AWSReservedSSO_[^/]+?)(?:\/[^/]*)?$/.exec(arn)?.[1];
  return name ? SSO_ROLE_NAME.exec(name)?.[1] : undefined;
}

function parseList(text: unknown): any[] {
  if (typeof text !== 'string' || text.trim() === '') return [];
  const parsed = JSON.parse(text); // aws-eks writes aws-auth lists as JSON (valid YAML)
  return Array.isArray(parsed) ? parsed : [];
}

/**
 * Marks the principals whose role or user gets `eks:DescribeCluster` on the cluster from
 * an `AWS::IAM::Policy` of the template: attached by `Ref` (a role or user of the template,
 * whose ARN the entries render as `${Id}` or `${Id.Arn}`) or by name (an import).
 */
function markDescribeCluster(resources: Record<string, any>, clusters: Map<string, ParsedCluster>) {
  for (const res of Object.values(resources)) {
    if (res.Type !== 'AWS::IAM::Policy') continue;
    for (const st of res.Properties?.PolicyDocument?.Statement ?? []) {
      if (st.Effect !== 'Allow' || ![st.Action].flat().some((a: unknown) => a === 'eks:DescribeCluster' || a === 'eks:*' || a === '*')) continue;
      const targets = [st.Resource].flat().map(t => render(t));
      for (const [id, cluster] of clusters) {
        if (!targets.some(t => t === '*' || t === cluster.arn || t.includes(`\${${id}`))) continue;
        for (const ref of [...(res.Properties.Roles ?? []), ...(res.Properties.Users ?? [])]) {
          const r = render(ref);
          const byRef = /^\$\{([^.}]+)\}$/.exec(r)?.[1];
          for (const p of cluster.principals) {
            const match = byRef !== undefined
              ? p.templateArn.includes(`\${${byRef}}`) || p.templateArn.includes(`\${${byRef}.Arn}`)
              : new RegExp(`:(role|user)/(.*/)?${r.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'i').test(p.templateArn);
            if (match) p.describeCluster = true;
          }
        }
      }
    }
  }
}

/**
 * Every EKS cluster in one template, with its principals and Kubernetes objects.
 * `paths`: construct paths by logical id, for templates without `aws:cdk:path` metadata.
 */
export function parseTemplate(stackName: string, template: any, paths?: ReadonlyMap<string, string>): ParsedCluster[] {
  const resources: Record<string, any> = template?.Resources ?? {};
  const clusters = new Map<string, ParsedCluster>();
  for (const [id, res] of Object.entries(resources)) {
    if (res.Type === 'Custom::AWSCDK-EKS-Cluster' || res.Type === 'AWS::EKS::Cluster') {
      const config = res.Type === 'AWS::EKS::Cluster' ? res.Properties : res.Properties?.Config;
      const name = res.Type === 'AWS::EKS::Cluster' ? res.Properties?.Name : res.Properties?.Config?.name;
      clusters.set(id, {
        id: `${stackName}/${id}`,
        name: name !== undefined ? render(name) : `\${${id}}`,
        arn: `\${${id}.Arn}`,
        authenticationMode: config?.accessConfig?.authenticationMode ?? config?.AccessConfig?.AuthenticationMode ?? 'CONFIG_MAP',
        principals: [],
        raw: [],
        objects: [],
      });
    }
  }
  // permission sets looked up by name: their attributes stand for `sso:<name>`
  const ssoByName = new Map<string, string>();
  for (const [id, res] of Object.entries(resources)) {
    if (res.Type === 'Custom::CdkEksAccessSsoRole') ssoByName.set(id, res.Properties?.PermissionSetName);
  }
  const names = readableNames(resources, paths);
  const clusterOf = (props: any) => clusters.get(props?.ClusterName?.Ref);
  // `arn` is rendered with logical ids (unique: what principals are told apart by), `shown` with readable names
  const principalOf = (cluster: ParsedCluster, arn: string, shown: string, backend: Backend): ParsedPrincipal => {
    const byName = /^\$\{([^.}]+)\.(?:PathlessArn|Arn)\}$/.exec(arn);
    const setName = byName ? ssoByName.get(byName[1]) : undefined;
    // aws-iam-authenticator compares an aws-auth rolearn literally with the caller's path-less
    // role ARN: an entry written with a path is its own principal, which no caller is
    const identity = setName !== undefined ? `sso-permission-set:${setName.toLowerCase()}`
      : backend === 'aws-auth' && /:role\/.+\/[^/]+$/.test(arn) ? `pathed:${arn.toLowerCase()}` : identityOf(arn);
    let p = cluster.principals.find(x => x.identity === identity);
    if (!p) {
      p = {
        arn: shown,
        templateArn: arn,
        isUser: /:user\//.test(arn) || resources[/^\$\{([^.}]+)(?:\.Arn)?\}$/.exec(arn)?.[1] ?? '']?.Type === 'AWS::IAM::User',
        identity,
        display: setName !== undefined ? `sso:${setName}` : shown,
        permissionSetName: setName ?? permissionSetOf(arn),
        username: '',
        groups: [],
        backends: [],
        clusterAdminPolicy: false,
        accessPolicies: [],
        accessEntryGroups: [],
        describeCluster: false,
      };
      cluster.principals.push(p);
    }
    return p;
  };
  const addEntry = (cluster: ParsedCluster, backend: Backend, arnValue: unknown, usernameValue: unknown, groups: string[], adminPolicy = false) => {
    const arn = render(arnValue);
    const shown = render(arnValue, names);
    const username = usernameValue === undefined ? shown : render(usernameValue, names);
    cluster.raw.push({ backend, arn, username, groups });
    const p = principalOf(cluster, arn, shown, backend);
    if (!p.backends.includes(backend)) p.backends.push(backend);
    if (backend === 'access-entry' || p.username === '') p.username = username;
    if (backend === 'access-entry') {
      // the full ARN is the more precise one
      p.arn = shown;
      p.templateArn = arn;
    }
    p.groups = Array.from(new Set([...p.groups, ...groups])).sort();
    p.clusterAdminPolicy = p.clusterAdminPolicy || adminPolicy;
    if (backend === 'access-entry') p.accessEntryGroups = Array.from(new Set([...p.accessEntryGroups, ...groups])).sort();
    return p;
  };

  for (const res of Object.values(resources)) {
    const cluster = clusterOf(res.Properties);
    if (!cluster) continue;
    if (res.Type === 'Custom::AWSCDK-EKS-KubernetesResource') {
      const objects: KubeObject[] = JSON.parse(render(res.Properties.Manifest));
      for (const obj of objects) {
        if (obj?.kind === 'ConfigMap' && obj.metadata?.name === 'aws-auth' && obj.metadata?.namespace === 'kube-system') {
          for (const e of parseList(obj.data?.mapRoles)) addEntry(cluster, 'aws-auth', e.rolearn, e.username, e.groups ?? []);
          for (const e of parseList(obj.data?.mapUsers)) addEntry(cluster, 'aws-auth', e.userarn, e.username, e.groups ?? []);
        } else if (obj?.kind !== 'ConfigMap') {
          cluster.objects.push(obj);
        }
      }
    } else if (res.Type === 'Custom::CdkEksAccessAwsAuth') {
      // the library's reconciler: entries inline, values may be intrinsics
      for (const e of res.Properties.MapRoles ?? []) addEntry(cluster, 'aws-auth', e.rolearn, e.username, (e.groups ?? []).map((g: unknown) => render(g)));
      for (const e of res.Properties.MapUsers ?? []) addEntry(cluster, 'aws-auth', e.userarn, e.username, (e.groups ?? []).map((g: unknown) => render(g)));
    } else if (res.Type === 'Custom::CdkEksAccessRbac') {
      cluster.objects.push(...(res.Properties.Objects ?? []));
    } else if (res.Type === 'AWS::EKS::AccessEntry') {
      const p = res.Properties;
      const admin = (p.AccessPolicies ?? []).some((a: any) => render(a.PolicyArn).endsWith('cluster-access-policy/AmazonEKSClusterAdminPolicy') && a.AccessScope?.Type === 'cluster');
      const principal = addEntry(cluster, 'access-entry', p.PrincipalArn, p.Username, (p.KubernetesGroups ?? []).map((g: unknown) => render(g)), admin);
      for (const a of p.AccessPolicies ?? []) {
        const policy = render(a.PolicyArn).split('cluster-access-policy/')[1] ?? render(a.PolicyArn);
        const namespaces = a.AccessScope?.Type === 'namespace' ? (a.AccessScope.Namespaces ?? []).map((n: unknown) => render(n)) : undefined;
        principal.accessPolicies.push(namespaces ? { policy, namespaces } : { policy });
      }
    }
  }
  markDescribeCluster(resources, clusters);
  for (const c of clusters.values()) c.principals.sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
  return Array.from(clusters.values());
}
