import { ACCESS_POLICY_RULES } from './access-policy-rules';
import { BUILT_IN_CLUSTER_ROLES } from './builtin-roles';
import { Backend, identityOf, ParsedCluster, ParsedPrincipal, permissionSetOf } from './parse';
import { Question, normalizeQuestion } from './question';
import { KubeObject, RbacRule } from '../rbac/objects';

/** One binding that applies to a principal, with the rules it grants. */
export interface Permission {
  /** a namespace, or `*` for cluster-wide */
  scope: string;
  group: string;
  binding: string;
  role: string;
  rules: RbacRule[];
  /** the role is a built-in ClusterRole (rules from the bootstrap policy) */
  builtIn: boolean;
}

/** The backends EKS reads in a mode, in the order it consults them. */
export function backendsRead(mode: string): Backend[] {
  if (mode === 'API') return ['access-entry'];
  if (mode === 'API_AND_CONFIG_MAP') return ['access-entry', 'aws-auth'];
  return ['aws-auth'];
}

/**
 * Whether EKS authenticates a principal through its access entry: the mode reads access
 * entries and it has one. Then its aws-auth entry is not used at all (EKS User Guide,
 * "Migrating existing aws-auth ConfigMap entries to access entries": access entries take
 * precedence over ConfigMap entries for the same principal).
 */
export function usesAccessEntry(cluster: ParsedCluster, p: ParsedPrincipal): boolean {
  return backendsRead(cluster.authenticationMode).includes('access-entry') && p.backends.includes('access-entry');
}

/** Whether a principal is cluster admin: `system:masters` in aws-auth, or AmazonEKSClusterAdminPolicy. */
export function isClusterAdmin(cluster: ParsedCluster, p: ParsedPrincipal): string | undefined {
  if (usesAccessEntry(cluster, p)) return p.clusterAdminPolicy ? 'access entry with AmazonEKSClusterAdminPolicy' : undefined;
  const read = backendsRead(cluster.authenticationMode);
  if (read.includes('aws-auth') && p.backends.includes('aws-auth') && p.groups.includes('system:masters')) return 'aws-auth entry in system:masters';
  return undefined;
}

function roleRules(objects: KubeObject[], binding: KubeObject): { rules: RbacRule[]; builtIn: boolean } | undefined {
  const ref = binding.roleRef ?? {};
  const generated = objects.find(o => o.kind === ref.kind && o.metadata?.name === ref.name
    && (ref.kind === 'ClusterRole' || o.metadata?.namespace === binding.metadata?.namespace));
  if (generated) return { rules: generated.rules ?? [], builtIn: false };
  if (ref.kind === 'ClusterRole' && BUILT_IN_CLUSTER_ROLES[ref.name]) return { rules: BUILT_IN_CLUSTER_ROLES[ref.name], builtIn: true };
  return undefined;
}

/**
 * The verb that lets a user write RBAC objects without holding their permissions:
 * `escalate` for Roles and ClusterRoles, `bind` for bindings (Kubernetes' RBAC escalation
 * prevention). Undefined for other questions.
 */
function escalationVerb(q: Question): string | undefined {
  if ((q.apiGroup ?? '') !== 'rbac.authorization.k8s.io' || !['create', 'update', 'patch'].includes(q.verb)) return undefined;
  if (q.resource === 'roles' || q.resource === 'clusterroles') return 'escalate';
  if (q.resource === 'rolebindings' || q.resource === 'clusterrolebindings') return 'bind';
  return undefined;
}

/**
 * The groups EKS gives a principal: those of its access entry when the mode reads access
 * entries and it has one (access entries take precedence over aws-auth entries for the
 * same principal, EKS User Guide, "Migrating existing aws-auth ConfigMap entries to
 * access entries"), else those of its aws-auth entry.
 */
export function effectiveGroups(cluster: ParsedCluster, p: ParsedPrincipal): string[] {
  return usesAccessEntry(cluster, p) ? p.accessEntryGroups : p.groups;
}

/** Whether an access-policy namespace (a name, or a prefix ending in `*`) covers `namespace`. */
export function namespaceMatches(scope: string, namespace: string): boolean {
  return scope.endsWith('*') ? namespace.startsWith(scope.slice(0, -1)) : scope === namespace;
}

/** The access policies that apply to a principal, as permissions (scope `*` or one namespace pattern each). */
export function accessPolicyPermissions(cluster: ParsedCluster, p: ParsedPrincipal): Permission[] {
  if (!usesAccessEntry(cluster, p)) return [];
  const out: Permission[] = [];
  for (const a of p.accessPolicies) {
    const rules = ACCESS_POLICY_RULES[a.policy];
    for (const scope of a.namespaces ?? ['*']) {
      out.push({ scope, group: '', binding: `access policy ${a.policy}`, role: `${a.policy} (${a.namespaces ? `namespace ${scope}` : 'cluster'} scope)`, rules: rules ?? [], builtIn: true });
    }
  }
  return out;
}

/** The bindings that apply to a principal through its groups. */
export function permissionsOf(cluster: ParsedCluster, p: ParsedPrincipal): Permission[] {
  const out: Permission[] = [];
  const groups = effectiveGroups(cluster, p);
  for (const b of cluster.objects.filter(o => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    for (const s of b.subjects ?? []) {
      if (s.kind !== 'Group' || !groups.includes(s.name)) continue;
      const role = roleRules(cluster.objects, b);
      out.push({
        scope: b.kind === 'RoleBinding' ? b.metadata.namespace : '*',
        group: s.name,
        binding: `${b.kind} ${b.metadata.namespace ? b.metadata.namespace + '/' : ''}${b.metadata.name}`,
        role: `${b.roleRef.kind} ${b.roleRef.name}`,
        rules: role?.rules ?? [],
        builtIn: role?.builtIn ?? false,
      });
    }
  }
  return out;
}


function matches(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some(x => x === '*' || x === value);
}

function ruleAllows(rule: RbacRule, q: Question): boolean {
  if (!matches(rule.verbs, q.verb)) return false;
  if (q.resource.startsWith('/')) {
    return (rule.nonResourceURLs ?? []).some(u => u === '*' || u === q.resource || (u.endsWith('*') && q.resource.startsWith(u.slice(0, -1))));
  }
  if (!matches(rule.apiGroups, q.apiGroup ?? '')) return false;
  const [base, sub] = q.resource.split('/', 2);
  const resourceOk = (rule.resources ?? []).some(r => r === '*' || r === q.resource || (sub !== undefined && r === `${base}/*`) || (sub !== undefined && r === `*/${sub}`));
  if (!resourceOk) return false;
  return rule.resourceNames === undefined || rule.resourceNames.length === 0 || (q.name !== undefined && rule.resourceNames.includes(q.name));
}

/** Finds the principal of a question (ARN, role ARN with path, or STS session ARN). */
export function findPrincipal(cluster: ParsedCluster, arn: string): ParsedPrincipal | undefined {
  const identity = identityOf(arn);
  const direct = cluster.principals.find(p => p.identity === identity);
  if (direct) return direct;
  const setName = permissionSetOf(arn);
  return setName === undefined ? undefined : cluster.principals.find(p => p.identity === `sso-permission-set:${setName.toLowerCase()}`);
}

/** The answer to a question, with the reason. */
export interface Answer {
  allowed: boolean;
  reason: string;
  principal?: ParsedPrincipal;
}

export function canI(cluster: ParsedCluster, asked: Question): Answer {
  const q = normalizeQuestion(asked);
  const p = findPrincipal(cluster, q.principalArn);
  if (!p) {
    return { allowed: false, reason: `${q.principalArn} (matched as ${identityOf(q.principalArn)}) has no aws-auth entry or access entry on ${cluster.id}` };
  }
  const read = backendsRead(cluster.authenticationMode);
  if (!p.backends.some(b => read.includes(b))) {
    return { allowed: false, principal: p, reason: `${p.display} is only in ${p.backends.join(', ')}, which a ${cluster.authenticationMode} cluster does not read` };
  }
  const admin = isClusterAdmin(cluster, p);
  if (admin) return { allowed: true, principal: p, reason: `${p.display} is cluster admin (${admin})` };
  const scopeOk = (scope: string) => scope === '*' || (q.namespace !== undefined && namespaceMatches(scope, q.namespace));
  for (const perm of accessPolicyPermissions(cluster, p)) {
    if (!scopeOk(perm.scope)) continue;
    const index = perm.rules.findIndex(r => ruleAllows(r, q));
    const escalation = escalationVerb(q);
    if (index >= 0 && escalation !== undefined && !perm.rules.some(r => ruleAllows(r, { ...q, verb: escalation }))) {
      return {
        allowed: false,
        principal: p,
        reason: `${p.display} has the access policy ${perm.role}, whose rule ${index} allows ${q.verb} ${q.resource}, but Kubernetes lets a user write a Role or binding only with the permissions it grants held through RBAC (access policies do not count) or with the ${escalation} verb, which the policy lacks (aws/containers-roadmap#2682)`,
      };
    }
    if (index >= 0) {
      return {
        allowed: true,
        principal: p,
        reason: `${p.display} (username ${p.username}) has the access policy ${perm.role}, whose rule ${index} ${JSON.stringify(perm.rules[index])} allows it (published rules of the policy)`,
      };
    }
  }
  for (const perm of permissionsOf(cluster, p)) {
    if (!scopeOk(perm.scope)) continue;
    const index = perm.rules.findIndex(r => ruleAllows(r, q));
    if (index >= 0) {
      return {
        allowed: true,
        principal: p,
        reason: `${p.display} (username ${p.username}) is in group ${perm.group}, bound by ${perm.binding} to ${perm.role}${perm.builtIn ? ' (built-in)' : ''}, whose rule ${index} ${JSON.stringify(perm.rules[index])} allows it`,
      };
    }
  }
  const where = q.namespace !== undefined ? `in namespace ${q.namespace}` : 'cluster-wide';
  const policies = p.accessPolicies.length > 0 ? ` and no access policy (${p.accessPolicies.map(a => a.policy).join(', ')})` : '';
  // groups no binding of the app names (AccessLevel.existingGroups(), GrantOptions.groups): bound outside it, unseen here
  const groups = effectiveGroups(cluster, p);
  const bound = new Set(permissionsOf(cluster, p).map(perm => perm.group));
  const outside = groups.filter(g => !bound.has(g) && !g.startsWith('system:'));
  const unseen = outside.length > 0 ? `; ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} bound outside this app (if at all), which this report cannot see` : '';
  return {
    allowed: false,
    principal: p,
    reason: `no binding of ${p.display}'s groups (${groups.join(', ') || 'none'})${policies} allows ${q.verb} ${q.apiGroup ? q.apiGroup + '/' : ''}${q.resource}${q.name ? ' ' + q.name : ''} ${where}${unseen}`,
  };
}

/**
 * The username aws-iam-authenticator gives a request, with the templates it can fill from
 * the ARN: {{AccountID}}; for an assumed-role session ARN {{SessionName}} (with "@"
 * replaced by "-") and {{SessionNameRaw}}. {{AccessKeyID}} stays as it is (not in an ARN).
 */
export function expandUsername(template: string, requestArn: string): string {
  const account = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(requestArn)?.[1];
  const session = /^arn:[^:]+:sts::[^:]*:assumed-role\/[^/]+\/(.+)$/.exec(requestArn)?.[1];
  let out = template;
  if (account !== undefined) out = out.split('{{AccountID}}').join(account);
  if (session !== undefined) {
    out = out.split('{{SessionNameRaw}}').join(session).split('{{SessionName}}').join(session.replace(/@/g, '-'));
  }
  return out;
}
