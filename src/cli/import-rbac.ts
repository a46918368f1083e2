import * as YAML from 'yaml';
import { UsageError } from './command';
import { AccessLevel } from '../access-level';

/** A level a group's binding stands for: the factory call to print, and the level (validated). */
export interface LevelOfGroup {
  readonly code: string;
  readonly level: AccessLevel;
  /** The binding it comes from, e.g. `RoleBinding team-a/readers`. */
  readonly binding: string;
}

/** What the cluster's RBAC objects say of each group bound to a Group subject. */
export interface RbacIndex {
  /** Groups whose every binding is one of the library's levels. */
  readonly levels: Map<string, LevelOfGroup[]>;
  /** Groups with at least one binding that is none of the levels: they stay groups bound outside the app. */
  readonly other: Map<string, string[]>;
}

/** Kubernetes' user-facing ClusterRoles, as their bootstrap policy labels them. */
const BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';
const NAMESPACE_LEVELS: Record<string, (ns: string) => AccessLevel> = {
  view: AccessLevel.namespaceView,
  edit: AccessLevel.namespaceEdit,
  admin: AccessLevel.namespaceAdmin,
};
const FACTORY_NAMES: Record<string, string> = { view: 'namespaceView', edit: 'namespaceEdit', admin: 'namespaceAdmin' };

/**
 * Reads `kubectl get roles,rolebindings,clusterroles,clusterrolebindings -A -o yaml` (or -o json).
 *
 * A group bound to Kubernetes' built-in `view`, `edit` or `admin` ClusterRole by a
 * RoleBinding in a namespace is that namespace's level; by a ClusterRoleBinding to `view`,
 * `clusterView()`; by a ClusterRoleBinding to `cluster-admin`, `clusterAdmin()` (the same
 * rights; system:masters, which that level maps to, cannot be taken away by RBAC). A
 * ClusterRole of those names without the bootstrap label has been replaced and is not
 * built-in. Any other binding keeps the group as it is.
 */
export function readRbac(text: string, file: string): RbacIndex {
  const docs = YAML.parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.some(d => d.errors.length > 0)) {
    throw new UsageError(`${file}: not YAML or JSON; give the output of kubectl get roles,rolebindings,clusterroles,clusterrolebindings -A -o yaml`);
  }
  const objects: any[] = [];
  for (const value of docs.map(d => d.toJS())) {
    if (value?.kind === 'List' || Array.isArray(value?.items)) objects.push(...(value.items ?? []));
    else if (value) objects.push(value);
  }
  if (objects.length === 0) throw new UsageError(`${file}: no RBAC objects`);
  const replaced = new Set(objects
    .filter(o => o?.kind === 'ClusterRole' && o.metadata?.labels?.[BOOTSTRAP_LABEL] !== 'rbac-defaults')
    .map(o => String(o.metadata?.name)));
  const builtIn = (name: string) => !replaced.has(name);

  const levels = new Map<string, LevelOfGroup[]>();
  const other = new Map<string, string[]>();
  for (const b of objects.filter(o => o?.kind === 'RoleBinding' || o?.kind === 'ClusterRoleBinding')) {
    const ns: string | undefined = b.metadata?.namespace;
    const where = `${b.kind} ${b.kind === 'RoleBinding' ? `${ns}/` : ''}${b.metadata?.name}`;
    const ref = b.roleRef ?? {};
    let found: Omit<LevelOfGroup, 'binding'> | undefined;
    if (ref.kind === 'ClusterRole' && builtIn(ref.name)) {
      if (b.kind === 'RoleBinding' && NAMESPACE_LEVELS[ref.name] && typeof ns === 'string') {
        try {
          found = { code: `AccessLevel.${FACTORY_NAMES[ref.name]}(${JSON.stringify(ns)})`, level: NAMESPACE_LEVELS[ref.name](ns) };
        } catch {
          found = undefined; // not a namespace name the library takes: the group stays
        }
      } else if (b.kind === 'ClusterRoleBinding' && ref.name === 'view') {
        found = { code: 'AccessLevel.clusterView()', level: AccessLevel.clusterView() };
      } else if (b.kind === 'ClusterRoleBinding' && ref.name === 'cluster-admin') {
        found = { code: 'AccessLevel.clusterAdmin()', level: AccessLevel.clusterAdmin() };
      }
    }
    for (const s of b.subjects ?? []) {
      if (s?.kind !== 'Group' || typeof s.name !== 'string') continue;
      if (found) levels.set(s.name, [...(levels.get(s.name) ?? []), { ...found, binding: where }]);
      else other.set(s.name, [...(other.get(s.name) ?? []), `${where} (${ref.kind} ${ref.name})`]);
    }
  }
  for (const group of other.keys()) levels.delete(group);
  return { levels, other };
}
