import { Token } from 'aws-cdk-lib';
import { LIBRARY_PREFIX } from './private/constants';
import { show } from './private/errors';
import { canonicalJson, sha256Hex } from './private/hash';
import { assertGroup, assertNamespace, assertNamespaceScope, refuseRenamedNamespace } from './private/validate';
import { clusterRole, clusterRoleBinding, KubeObject, RbacRule, role, roleBinding } from './rbac/objects';

/**
 * One RBAC rule, as in a Kubernetes Role or ClusterRole.
 */
export interface PolicyRule {
  /**
   * API groups of the resources (`''` is the core group: pods, services, secrets, ...).
   *
   * Required for resource rules.
   *
   * @default - none (only for rules with `nonResourceURLs`)
   */
  readonly apiGroups?: string[];

  /**
   * Resources (plural, lower case, e.g. `deployments`, `pods/log`, or `*`).
   *
   * @default - none (only for rules with `nonResourceURLs`)
   */
  readonly resources?: string[];

  /**
   * Restricts the rule to objects with these names.
   *
   * @default - all objects of the resources
   */
  readonly resourceNames?: string[];

  /**
   * The verbs the rule allows.
   *
   * For resources: `get list watch create update patch delete deletecollection use
   * bind escalate impersonate approve sign` or `*`. For `nonResourceURLs`: lowercase HTTP
   * methods `get post put patch delete head options` or `*`.
   */
  readonly verbs: string[];

  /**
   * Non-resource URLs such as `/healthz` or `/metrics` (cluster-scoped custom levels only).
   *
   * @default - none
   */
  readonly nonResourceURLs?: string[];
}

/** Options for `AccessLevel.custom()`. */
export interface CustomAccessLevelOptions {
  /**
   * Namespace the rules apply in (a Role and RoleBinding are generated there).
   *
   * @default - cluster-wide (a ClusterRole and ClusterRoleBinding are generated)
   */
  readonly namespaceName?: string;

  /** The rules (at least one). */
  readonly rules: PolicyRule[];
}

const RESOURCE_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'use', 'bind', 'escalate', 'impersonate', 'approve', 'sign', '*'];
const HTTP_VERBS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', '*'];

/**
 * A named level of access to a cluster.
 *
 * Levels mean what Kubernetes' user-facing roles mean:
 *
 * - `clusterAdmin()`: everything (`system:masters`; `AmazonEKSClusterAdminPolicy` in access entries).
 * - `clusterView()`: read-only in every namespace, no Secrets (built-in `view`).
 * - `namespaceAdmin(ns)`: built-in `admin` inside `ns`.
 * - `namespaceEdit(ns)`: built-in `edit` inside `ns` (no RBAC changes).
 * - `namespaceView(ns)`: built-in `view` inside `ns` (no Secrets).
 * - `custom({ namespaceName?, rules })`: exactly the given rules.
 * - `existingGroups(groups)`: only the given groups, bound outside the app (no RBAC).
 *
 * The built-in levels (all but `custom()` and `existingGroups()`) are written either as
 * Kubernetes groups and RBAC, or as EKS access policies on the principal's access entry
 * (see `ClusterAccessOptions.builtInLevelBackend`). As RBAC, each level except
 * `clusterAdmin()` and `existingGroups()` maps its principals to a Kubernetes group the
 * library derives (e.g. `cdk-eks-access:team-a:view`) and binds that group once, however
 * many principals share the level.
 */
export class AccessLevel {
  /**
   * Cluster admin: the `system:masters` group in aws-auth, `AmazonEKSClusterAdminPolicy`
   * (cluster scope) in access entries. Generates no RBAC objects.
   */
  public static clusterAdmin(): AccessLevel {
    return new AccessLevel('cluster-admin', undefined, ['system:masters'], undefined, () => []);
  }

  /**
   * Read-only access to namespaced resources in every namespace, without Secrets:
   * a ClusterRoleBinding to the built-in `view` ClusterRole (which follows Kubernetes
   * upgrades and aggregated CRD permissions). Cluster-scoped resources such as nodes
   * are not included, as in `view`. As an access policy: `AmazonEKSViewPolicy` with
   * cluster scope (its published rules, without aggregated CRD permissions).
   */
  public static clusterView(): AccessLevel {
    const group = `${LIBRARY_PREFIX}:cluster-view`;
    return new AccessLevel('cluster-view', undefined, [group], undefined, () => [
      clusterRoleBinding(`${LIBRARY_PREFIX}:cluster-view`, 'view', group),
    ]);
  }

  /**
   * Built-in `admin` inside `namespaceName` (workloads, Secrets, Roles and RoleBindings of it).
   *
   * As RBAC: a RoleBinding to the `admin` ClusterRole in `namespaceName` (created at deploy
   * time when absent, never deleted). As an access policy (API authentication mode, the
   * default on aws-eks-v2): `AmazonEKSAdminPolicy` scoped to `namespaceName`, with which the
   * principal cannot create or change Roles and RoleBindings (Kubernetes' escalation check
   * counts only RBAC permissions; warning `cdk-eks-access:adminPolicyCannotDelegate`).
   *
   * Throws if `namespaceName` is a token, or neither a valid Kubernetes namespace name (a
   * DNS-1123 label such as `team-a`) nor a pattern with a trailing `*` (such as `dev-*`,
   * which EKS access-policy scopes accept; a grant of a pattern is refused at synth where
   * it would be written as RBAC or aws-auth).
   *
   * @param namespaceName the namespace (or `prefix-*` pattern) the level applies in
   */
  public static namespaceAdmin(namespaceName: string): AccessLevel {
    return AccessLevel.builtIn('admin', namespaceName, 'AccessLevel.namespaceAdmin()');
  }

  /**
   * Built-in `edit` inside `namespaceName` (read/write workloads and Secrets, no RBAC).
   *
   * As RBAC: a RoleBinding to the `edit` ClusterRole in `namespaceName` (created at deploy
   * time when absent, never deleted). As an access policy (API authentication mode, the
   * default on aws-eks-v2): `AmazonEKSEditPolicy` scoped to `namespaceName`.
   *
   * Throws if `namespaceName` is a token, or neither a valid Kubernetes namespace name (a
   * DNS-1123 label such as `team-a`) nor a pattern with a trailing `*` (such as `dev-*`,
   * which EKS access-policy scopes accept; a grant of a pattern is refused at synth where
   * it would be written as RBAC or aws-auth).
   *
   * @param namespaceName the namespace (or `prefix-*` pattern) the level applies in
   */
  public static namespaceEdit(namespaceName: string): AccessLevel {
    return AccessLevel.builtIn('edit', namespaceName, 'AccessLevel.namespaceEdit()');
  }

  /**
   * Built-in `view` inside `namespaceName` (read-only, no Secrets).
   *
   * As RBAC: a RoleBinding to the `view` ClusterRole in `namespaceName` (created at deploy
   * time when absent, never deleted). As an access policy (API authentication mode, the
   * default on aws-eks-v2): `AmazonEKSViewPolicy` scoped to `namespaceName`.
   *
   * Throws if `namespaceName` is a token, or neither a valid Kubernetes namespace name (a
   * DNS-1123 label such as `team-a`) nor a pattern with a trailing `*` (such as `dev-*`,
   * which EKS access-policy scopes accept; a grant of a pattern is refused at synth where
   * it would be written as RBAC or aws-auth).
   *
   * @param namespaceName the namespace (or `prefix-*` pattern) the level applies in
   */
  public static namespaceView(namespaceName: string): AccessLevel {
    return AccessLevel.builtIn('view', namespaceName, 'AccessLevel.namespaceView()');
  }

  /**
   * Exactly the given rules: a Role and RoleBinding in `namespaceName`, or a ClusterRole and
   * ClusterRoleBinding without one. Identical rule sets share one group and one role.
   *
   * Throws, listing every problem of the rule set at once, if the rules are empty, a rule
   * has no verbs, an unknown verb, no `apiGroups` for resources, or mixes
   * `nonResourceURLs` with resources (or uses them in a namespace); if `namespaceName` is
   * not a valid namespace name; and if the options carry `namespace` (the field's name
   * before 0.1.0, which would otherwise be ignored and make the rules cluster-wide).
   *
   * @param options the rules, and the namespace they apply in (none: cluster-wide)
   */
  public static custom(options: CustomAccessLevelOptions): AccessLevel {
    const context = 'AccessLevel.custom()';
    refuseRenamedNamespace(options, context, 'the options have', 'the rules would apply cluster-wide');
    if (options.namespaceName !== undefined) assertNamespace(options.namespaceName, context);
    const rules = normalizeRules(options.rules, options.namespaceName, context);
    const scope = options.namespaceName ?? 'cluster';
    const digest = sha256Hex(canonicalJson({ namespace: options.namespaceName ?? null, rules })).slice(0, 12);
    const name = `${LIBRARY_PREFIX}:custom-${digest}`;
    const group = `${LIBRARY_PREFIX}:${scope}:custom-${digest}`;
    const ns = options.namespaceName;
    return new AccessLevel('custom', ns, [group], rules, () => ns !== undefined
      ? [role(ns, name, rules), roleBinding(ns, name, 'Role', name, group)]
      : [clusterRole(name, rules), clusterRoleBinding(name, name, group)]);
  }

  /**
   * Maps principals to Kubernetes groups that are bound outside this app (RoleBindings
   * or ClusterRoleBindings applied by hand, by eksctl or by another tool), and generates
   * no RBAC objects and no namespace.
   *
   * For adopting a cluster whose aws-auth already maps principals to such groups
   * (`cdk-eks-access import` writes it), and for groups another app binds. What the
   * principals may do depends on those bindings, which the library neither checks nor
   * keeps: the access report shows the groups as mapped but not bound by the app.
   * In access entries the groups are the entry's `kubernetesGroups`.
   *
   * Throws, naming the group, if `groups` is empty, a group is a token, empty, contains
   * whitespace, is `system:masters` (use `clusterAdmin()`) or starts with a reserved prefix
   * (`system:`, `eks:`, `aws:`, `amazon:`, `iam:`).
   *
   * @param groups the Kubernetes groups, at least one. Duplicates are merged, the order is kept.
   */
  public static existingGroups(groups: string[]): AccessLevel {
    const context = 'AccessLevel.existingGroups()';
    if (!Array.isArray(groups) || groups.length === 0) {
      throw new Error(`${context}: groups is empty. Name at least one group that is bound outside this app, e.g. AccessLevel.existingGroups(['platform:readers']).`);
    }
    for (const group of groups) assertGroup(group, context);
    const unique = Array.from(new Set(groups));
    return new AccessLevel('existing-groups', undefined, unique, undefined, () => []);
  }

  private static builtIn(clusterRoleName: 'admin' | 'edit' | 'view', namespace: string, context: string): AccessLevel {
    assertNamespaceScope(namespace, context);
    const group = `${LIBRARY_PREFIX}:${namespace}:${clusterRoleName}`;
    return new AccessLevel(`namespace-${clusterRoleName}`, namespace, [group], undefined, () => [
      roleBinding(namespace, `${LIBRARY_PREFIX}:${clusterRoleName}`, 'ClusterRole', clusterRoleName, group),
    ]);
  }

  /**
   * The level's name: `cluster-admin`, `cluster-view`, `namespace-admin`, `namespace-edit`,
   * `namespace-view`, `custom` or `existing-groups`.
   */
  public readonly name: string;

  /**
   * The namespace the level applies in.
   *
   * @default - cluster-wide
   */
  public readonly namespaceName?: string;

  /**
   * The Kubernetes group principals of this level are mapped to.
   *
   * `system:masters` for cluster admin; for `existingGroups()` the first of its groups.
   */
  public readonly group: string;

  /**
   * Every Kubernetes group principals of this level are mapped to: `[group]` for every
   * level except `existingGroups()`, which maps several.
   */
  public readonly groups: string[];

  /**
   * The normalized rules of a custom level.
   *
   * @default - not a custom level
   */
  public readonly rules?: PolicyRule[];

  private readonly render: () => KubeObject[];

  private constructor(name: string, namespace: string | undefined, groups: string[], rules: RbacRule[] | undefined, render: () => KubeObject[]) {
    this.name = name;
    this.namespaceName = namespace;
    this.groups = [...groups];
    this.group = this.groups[0];
    this.rules = rules?.map(r => ({ ...r }));
    this.render = render;
  }

  /** Whether this is `clusterAdmin()`. */
  public get isClusterAdmin(): boolean {
    return this.name === 'cluster-admin';
  }

  /** A short description such as `namespace-view(team-a)`, for messages. */
  public toString(): string {
    if (this.name === 'existing-groups') return `${this.name}(${this.groups.join(',')})`;
    return this.namespaceName !== undefined ? `${this.name}(${this.namespaceName})` : this.name;
  }

  /**
   * The RBAC objects this level needs (fresh copies on every call).
   *
   * @internal
   */
  public _objects(): KubeObject[] {
    return this.render();
  }
}

function normalizeRules(rules: PolicyRule[] | undefined, namespace: string | undefined, context: string): RbacRule[] {
  const problems: string[] = [];
  if (!Array.isArray(rules) || rules.length === 0) {
    throw new Error(`${context}: rules is empty. Give at least one rule, e.g. { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] }.`);
  }
  const out = new Map<string, RbacRule>();
  rules.forEach((rule, i) => {
    const where = `rules[${i}]`;
    const list = (field: keyof PolicyRule, allowEmptyString = false): string[] | undefined => {
      const value = rule[field] as string[] | undefined;
      if (value === undefined) return undefined;
      if (!Array.isArray(value)) {
        problems.push(`${where}.${field} must be a list of strings, got ${show(value)}`);
        return undefined;
      }
      for (const item of value) {
        if (typeof item !== 'string' || Token.isUnresolved(item)) problems.push(`${where}.${field} has ${show(item)}, which is not a literal string`);
        else if (item === '' && !allowEmptyString) problems.push(`${where}.${field} has an empty string`);
        else if (/\s/.test(item)) problems.push(`${where}.${field} has ${show(item)}, which contains whitespace`);
      }
      return value.length === 0 ? undefined : Array.from(new Set(value)).sort();
    };
    const apiGroups = list('apiGroups', true);
    const resources = list('resources');
    const resourceNames = list('resourceNames');
    const nonResourceURLs = list('nonResourceURLs');
    const verbs = list('verbs') ?? [];
    if (verbs.length === 0) problems.push(`${where}.verbs is empty`);
    if (nonResourceURLs) {
      if (namespace !== undefined) problems.push(`${where} has nonResourceURLs, which only cluster-wide rules may have (leave out the namespace)`);
      if (apiGroups || resources || resourceNames) problems.push(`${where} mixes nonResourceURLs with apiGroups/resources/resourceNames; put them in separate rules`);
      for (const url of nonResourceURLs) {
        if (!url.startsWith('/') && url !== '*') problems.push(`${where}.nonResourceURLs has ${show(url)}; URLs start with "/" (e.g. "/healthz")`);
        if (url.indexOf('*') >= 0 && url.indexOf('*') !== url.length - 1) problems.push(`${where}.nonResourceURLs has ${show(url)}; "*" is only allowed at the end`);
      }
      for (const verb of verbs) {
        if (!HTTP_VERBS.includes(verb)) problems.push(`${where}.verbs has ${show(verb)}; rules with nonResourceURLs take lowercase HTTP methods: ${HTTP_VERBS.join(' ')}`);
      }
    } else {
      if (!resources) problems.push(`${where}.resources is empty (name resources such as "pods", or use nonResourceURLs in a cluster-wide rule)`);
      if (!apiGroups) problems.push(`${where}.apiGroups is empty (use [''] for the core group, e.g. pods and secrets)`);
      for (const verb of verbs) {
        if (!RESOURCE_VERBS.includes(verb)) problems.push(`${where}.verbs has ${show(verb)}, which is not a Kubernetes verb (${RESOURCE_VERBS.join(' ')})`);
      }
    }
    const normalized: RbacRule = {
      ...(apiGroups ? { apiGroups } : {}),
      ...(resources ? { resources } : {}),
      ...(resourceNames ? { resourceNames } : {}),
      ...(nonResourceURLs ? { nonResourceURLs } : {}),
      verbs,
    };
    out.set(canonicalJson(normalized), normalized);
  });
  if (problems.length > 0) {
    throw new Error(`${context}: invalid rules${namespace !== undefined ? ` for namespace ${show(namespace)}` : ''}:\n  - ${problems.join('\n  - ')}`);
  }
  return Array.from(out.entries()).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}
