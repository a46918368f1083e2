import { isClusterAdmin } from './evaluate';
import { identityOf, ParsedCluster } from './parse';
import { RESERVED_PREFIXES } from '../private/constants';

/** One problem `--check` reports. */
export interface Finding {
  cluster: string;
  kind: 'pathed-role-arn' | 'duplicate-arn' | 'unbound-group' | 'unmapped-binding' | 'too-many-admins' | 'reserved-prefix';
  message: string;
}

/** Groups EKS itself defines (and binds) for nodes and Fargate; `eks:kube-proxy-windows` for Windows nodes. */
const EKS_NODE_GROUPS = ['system:bootstrappers', 'system:nodes', 'system:node-proxier', 'eks:kube-proxy-windows'];

/** Groups that Kubernetes or EKS bind, not the app. */
const boundByPlatform = (group: string) => group.startsWith('system:') || EKS_NODE_GROUPS.includes(group);

export function findings(clusters: ParsedCluster[], maxClusterAdmins: number): Finding[] {
  const out: Finding[] = [];
  for (const c of clusters) {
    const add = (kind: Finding['kind'], message: string) => out.push({ cluster: c.id, kind, message });
    const seen = new Map<string, string>();
    for (const e of c.raw) {
      if (e.backend === 'aws-auth' && /:role\/.+\/[^/]+$/.test(e.arn)) {
        add('pathed-role-arn', `aws-auth maps ${e.arn} with its IAM path; aws-iam-authenticator compares path-less role ARNs, so it never matches. Use ${e.arn.replace(/:role\/.*\/([^/]+)$/, ':role/$1')}.`);
      }
      const key = `${e.backend} ${identityOf(e.arn)}`;
      if (seen.has(key)) add('duplicate-arn', `${e.backend} has two entries for ${e.arn} (also ${seen.get(key)}); only one is used, and the other's groups are lost.`);
      seen.set(key, e.arn);
      const node = e.groups.length > 0 && e.groups.every(g => EKS_NODE_GROUPS.includes(g)) && e.username.startsWith('system:node');
      if (!node) {
        for (const value of [e.username, ...e.groups.filter(g => g !== 'system:masters')]) {
          const prefix = RESERVED_PREFIXES.find(p => value.toLowerCase().startsWith(p));
          if (prefix) add('reserved-prefix', `${e.arn} uses ${JSON.stringify(value)}, which starts with the reserved prefix ${JSON.stringify(prefix)}.`);
        }
      }
    }
    const mapped = new Set(c.principals.flatMap(p => p.groups));
    const bound = new Set(c.objects.filter(o => o.kind?.endsWith('Binding')).flatMap(o => (o.subjects ?? []).filter((s: any) => s.kind === 'Group').map((s: any) => s.name)));
    for (const g of mapped) {
      if (!boundByPlatform(g) && !bound.has(g)) add('unbound-group', `group ${g} is mapped (${c.principals.filter(p => p.groups.includes(g)).map(p => p.display).join(', ')}) but no binding in this app binds it (fine only if it is bound elsewhere).`);
    }
    for (const g of bound) {
      if (!g.startsWith('system:') && !mapped.has(g)) add('unmapped-binding', `a binding names group ${g}, which no principal is mapped to: it grants nothing.`);
    }
    const admins = c.principals.filter(p => isClusterAdmin(c, p) !== undefined);
    if (admins.length > maxClusterAdmins) {
      add('too-many-admins', `${admins.length} principals are cluster admin (${admins.map(p => p.display).join(', ')}); the limit is ${maxClusterAdmins}.`);
    }
  }
  return out;
}
