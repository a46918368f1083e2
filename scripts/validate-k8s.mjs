#!/usr/bin/env node
// Validates every Kubernetes object in synthesized templates against real Kubernetes API
// schemas (the kubernetes-models package, generated from the Kubernetes OpenAPI spec)
// plus the checks those schemas leave out: unknown fields, apiVersion/kind, names
// Kubernetes would reject, roleRefs to roles that do not exist, and aws-auth content.
//
//   node scripts/validate-k8s.mjs [cdk.out]           every *.template.json below the folder
//   node scripts/validate-k8s.mjs --objects file.json  one JSON array of objects (for tests)
//
// Exit code 0 when everything is valid, 1 with one line per problem otherwise.
// (ESM: kubernetes-models 5.x is published as ES modules only; 4.5.1, used for Node 20, has both.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { ConfigMap, Namespace } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';

const require = createRequire(import.meta.url);
const MODELS_VERSION = require('kubernetes-models/package.json').version;

const RBAC = 'rbac.authorization.k8s.io/v1';
const KINDS = {
  'v1/ConfigMap': { model: ConfigMap, fields: ['apiVersion', 'kind', 'metadata', 'data'], namespaced: true },
  'v1/Namespace': { model: Namespace, fields: ['apiVersion', 'kind', 'metadata'], namespaced: false },
  [`${RBAC}/Role`]: { model: Role, fields: ['apiVersion', 'kind', 'metadata', 'rules'], namespaced: true },
  [`${RBAC}/ClusterRole`]: { model: ClusterRole, fields: ['apiVersion', 'kind', 'metadata', 'rules'], namespaced: false },
  [`${RBAC}/RoleBinding`]: { model: RoleBinding, fields: ['apiVersion', 'kind', 'metadata', 'roleRef', 'subjects'], namespaced: true },
  [`${RBAC}/ClusterRoleBinding`]: { model: ClusterRoleBinding, fields: ['apiVersion', 'kind', 'metadata', 'roleRef', 'subjects'], namespaced: false },
};
const METADATA_FIELDS = ['name', 'namespace', 'labels', 'annotations'];
const RULE_FIELDS = ['apiGroups', 'resources', 'resourceNames', 'verbs', 'nonResourceURLs'];
const ROLE_REF_FIELDS = ['apiGroup', 'kind', 'name'];
const SUBJECT_FIELDS = ['apiGroup', 'kind', 'name', 'namespace'];
const BUILT_IN_CLUSTER_ROLES = ['cluster-admin', 'admin', 'edit', 'view'];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const AWS_AUTH_ENTRY_FIELDS = { mapRoles: ['rolearn', 'username', 'groups'], mapUsers: ['userarn', 'username', 'groups'] };

/** Renders a CloudFormation value to a string: Fn::Join over literals, refs as ${X}. */
function flatten(value) {
  if (typeof value === 'string') return value;
  if (value && value['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  if (value && value.Ref) return '${' + value.Ref + '}';
  if (value && value['Fn::GetAtt']) return '${' + value['Fn::GetAtt'].join('.') + '}';
  if (value && value['Fn::ImportValue']) return '${Import:' + flatten(value['Fn::ImportValue']) + '}';
  throw new Error('cannot render ' + JSON.stringify(value));
}

function unknownFields(obj, allowed, where, problems) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    problems.push(`${where}: expected an object, got ${JSON.stringify(obj)}`);
    return;
  }
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) problems.push(`${where}: unknown field ${JSON.stringify(key)}`);
}

function checkRbacName(name, where, problems) {
  // Kubernetes' path-segment name rule for RBAC objects (colons are allowed)
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/%]/.test(name) || name.length > 253) {
    problems.push(`${where}: ${JSON.stringify(name)} is not a valid RBAC object name (a path segment: not empty, "." or "..", no "/" or "%", at most 253 characters)`);
  }
}

function checkLabels(labels, where, problems) {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const [prefix, name] = key.includes('/') ? key.split('/', 2) : [undefined, key];
    if ((prefix !== undefined && (!DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253)) || !LABEL_NAME.test(name) || name.length > 63) {
      problems.push(`${where}: label key ${JSON.stringify(key)} is not a qualified name`);
    }
    if (typeof value !== 'string' || value.length > 63 || (value !== '' && !LABEL_NAME.test(value))) {
      problems.push(`${where}: label value ${JSON.stringify(value)} is invalid`);
    }
  }
}

function checkAwsAuth(obj, where, problems) {
  if (obj.metadata?.name === 'cdk-eks-access-aws-auth-handover' && obj.metadata?.namespace === 'kube-system') {
    // the placeholder that aws-eks's former aws-auth manifest applies: a note only
    unknownFields(obj.data, ['note'], `${where}.data`, problems);
    return;
  }
  if (obj.metadata?.name !== 'aws-auth' || obj.metadata?.namespace !== 'kube-system') {
    problems.push(`${where}: the only ConfigMaps the library writes are kube-system/aws-auth and kube-system/cdk-eks-access-aws-auth-handover, got ${obj.metadata?.namespace}/${obj.metadata?.name}`);
    return;
  }
  unknownFields(obj.data, ['mapRoles', 'mapUsers', 'mapAccounts'], `${where}.data`, problems);
  const seen = new Map();
  for (const [list, fields] of Object.entries(AWS_AUTH_ENTRY_FIELDS)) {
    const text = obj.data?.[list];
    if (text === undefined) continue;
    let entries;
    try {
      entries = JSON.parse(text); // aws-eks writes JSON, which is valid YAML
    } catch (e) {
      problems.push(`${where}.data.${list}: does not parse: ${e.message}`);
      continue;
    }
    if (!Array.isArray(entries)) { problems.push(`${where}.data.${list}: not a list`); continue; }
    entries.forEach((entry, i) => {
      const at = `${where}.data.${list}[${i}]`;
      unknownFields(entry, fields, at, problems);
      const arn = entry[fields[0]];
      if (typeof arn !== 'string' || !arn.startsWith('arn:') && !arn.startsWith('${')) problems.push(`${at}: ${fields[0]} ${JSON.stringify(arn)} is not an ARN`);
      if (typeof entry.username !== 'string' || entry.username === '') problems.push(`${at}: username must be a non-empty string`);
      if (!Array.isArray(entry.groups) || entry.groups.some(g => typeof g !== 'string' || g === '')) problems.push(`${at}: groups must be a list of non-empty strings`);
      if (list === 'mapRoles' && typeof arn === 'string' && /:role\/.*\//.test(arn)) problems.push(`${at}: role ARN ${arn} has a path; aws-auth only matches path-less role ARNs`);
      const key = String(arn).toLowerCase();
      if (seen.has(key)) problems.push(`${at}: ${arn} is mapped twice (also ${seen.get(key)}); aws-iam-authenticator keeps only one entry`);
      seen.set(key, at);
    });
  }
}

/** Validates a list of objects that are applied together (one template). */
export function validateObjects(objects, origin = 'objects') {
  const problems = [];
  const roles = new Set(objects.filter(o => o?.kind === 'Role').map(o => `${o.metadata?.namespace}/${o.metadata?.name}`));
  const clusterRoles = new Set(objects.filter(o => o?.kind === 'ClusterRole').map(o => o.metadata?.name));
  objects.forEach((obj, i) => {
    const where = `${origin}[${i}] ${obj?.kind ?? '?'} ${obj?.metadata?.namespace ? obj.metadata.namespace + '/' : ''}${obj?.metadata?.name ?? '?'}`;
    const spec = KINDS[`${obj?.apiVersion}/${obj?.kind}`];
    if (!spec) { problems.push(`${where}: unexpected apiVersion/kind ${obj?.apiVersion}/${obj?.kind}`); return; }
    try {
      new spec.model(obj).validate();
    } catch (e) {
      problems.push(`${where}: schema: ${e.message.split('\n').join('; ')}`);
    }
    unknownFields(obj, spec.fields, where, problems);
    unknownFields(obj.metadata, METADATA_FIELDS, `${where}.metadata`, problems);
    checkLabels(obj.metadata?.labels, `${where}.metadata.labels`, problems);
    const ns = obj.metadata?.namespace;
    if (spec.namespaced && (typeof ns !== 'string' || !DNS1123_LABEL.test(ns) || ns.length > 63)) problems.push(`${where}: namespace ${JSON.stringify(ns)} is not a DNS-1123 label`);
    if (!spec.namespaced && ns !== undefined) problems.push(`${where}: a cluster-scoped ${obj.kind} has a namespace`);
    if (obj.kind === 'Namespace') {
      const name = obj.metadata?.name;
      if (typeof name !== 'string' || !DNS1123_LABEL.test(name) || name.length > 63) problems.push(`${where}: ${JSON.stringify(name)} is not a DNS-1123 label`);
    } else if (obj.kind !== 'ConfigMap') {
      checkRbacName(obj.metadata?.name, where, problems);
    }
    if (obj.kind === 'ConfigMap') checkAwsAuth(obj, where, problems);
    if (obj.kind === 'Role' || obj.kind === 'ClusterRole') {
      (obj.rules ?? []).forEach((rule, r) => unknownFields(rule, RULE_FIELDS, `${where}.rules[${r}]`, problems));
    }
    if (obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') {
      const ref = obj.roleRef ?? {};
      unknownFields(ref, ROLE_REF_FIELDS, `${where}.roleRef`, problems);
      if (ref.apiGroup !== 'rbac.authorization.k8s.io') problems.push(`${where}.roleRef: apiGroup must be rbac.authorization.k8s.io`);
      if (ref.kind === 'Role') {
        if (obj.kind === 'ClusterRoleBinding') problems.push(`${where}.roleRef: a ClusterRoleBinding cannot reference a Role`);
        else if (!roles.has(`${ns}/${ref.name}`)) problems.push(`${where}.roleRef: Role ${ns}/${ref.name} is not generated`);
      } else if (ref.kind === 'ClusterRole') {
        if (!clusterRoles.has(ref.name) && !BUILT_IN_CLUSTER_ROLES.includes(ref.name)) problems.push(`${where}.roleRef: ClusterRole ${ref.name} is neither generated nor built in`);
      } else {
        problems.push(`${where}.roleRef: kind ${JSON.stringify(ref.kind)} is neither Role nor ClusterRole`);
      }
      if (!Array.isArray(obj.subjects) || obj.subjects.length === 0) problems.push(`${where}: no subjects`);
      (obj.subjects ?? []).forEach((s, j) => {
        unknownFields(s, SUBJECT_FIELDS, `${where}.subjects[${j}]`, problems);
        if (s.kind === 'Group' && s.apiGroup !== 'rbac.authorization.k8s.io') problems.push(`${where}.subjects[${j}]: a Group subject needs apiGroup rbac.authorization.k8s.io`);
        if (!['Group', 'User', 'ServiceAccount'].includes(s.kind)) problems.push(`${where}.subjects[${j}]: unknown subject kind ${JSON.stringify(s.kind)}`);
      });
    }
  });
  return problems;
}

/** A CloudFormation value with every string rendered (intrinsics as ${X}). */
function flattenDeep(value) {
  if (Array.isArray(value)) return value.map(flattenDeep);
  if (value && typeof value === 'object' && !value['Fn::Join'] && !value.Ref && !value['Fn::GetAtt'] && !value['Fn::ImportValue']) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, flattenDeep(v)]));
  }
  return typeof value === 'string' || value === null || typeof value !== 'object' ? value : flatten(value);
}

/**
 * The Kubernetes objects a resource writes: the library's reconciler resources (RBAC
 * objects inline; namespaces as the handler creates them; aws-auth as the handler
 * writes it into an absent ConfigMap) and aws-eks kubectl manifests.
 */
function objectsOf(res) {
  const p = res.Properties ?? {};
  switch (res.Type) {
    case 'Custom::AWSCDK-EKS-KubernetesResource': return JSON.parse(flatten(p.Manifest));
    case 'Custom::CdkEksAccessRbac': return flattenDeep(p.Objects);
    case 'Custom::CdkEksAccessNamespaces':
      return p.Namespaces.map(name => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: flatten(name), labels: { 'app.kubernetes.io/managed-by': 'cdk-eks-access' } } }));
    case 'Custom::CdkEksAccessAwsAuth':
      return [{
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'aws-auth', namespace: 'kube-system' },
        data: { mapRoles: JSON.stringify(flattenDeep(p.MapRoles)), mapUsers: JSON.stringify(flattenDeep(p.MapUsers)) },
      }];
    default: return [];
  }
}

function templatesUnder(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('asset.')) out.push(...templatesUnder(full));
    else if (entry.name.endsWith('.template.json')) out.push(full);
  }
  return out.sort();
}

function main(argv) {
  const problems = [];
  let count = 0;
  let files = 0;
  if (argv[0] === '--objects') {
    const objects = JSON.parse(fs.readFileSync(argv[1], 'utf8'));
    count = objects.length;
    problems.push(...validateObjects(objects));
  } else {
    const dir = argv[0] ?? 'cdk.out';
    for (const file of templatesUnder(dir)) {
      const template = JSON.parse(fs.readFileSync(file, 'utf8'));
      const objects = [];
      const resources = Object.values(template.Resources ?? {});
      for (const res of resources) objects.push(...objectsOf(res));
      // one aws-auth writer: the reconciler's, never also an aws-eks manifest of aws-auth
      const eksAwsAuth = resources.filter(r => r.Type === 'Custom::AWSCDK-EKS-KubernetesResource'
        && JSON.parse(flatten(r.Properties.Manifest)).some(o => o.kind === 'ConfigMap' && o.metadata?.name === 'aws-auth'));
      if (eksAwsAuth.length > 0 && resources.some(r => r.Type === 'Custom::CdkEksAccessAwsAuth')) {
        problems.push(`${path.relative(process.cwd(), file)}: aws-auth has two writers (the reconciler and an aws-eks manifest)`);
      }
      if (objects.length === 0) continue;
      files++;
      count += objects.length;
      problems.push(...validateObjects(objects, path.relative(process.cwd(), file)));
    }
    if (count === 0) problems.push(`no Kubernetes objects found under ${dir}: synthesize first`);
  }
  console.log(`Kubernetes objects: ${count} checked in ${files || 1} source(s) against kubernetes-models ${MODELS_VERSION} schemas plus strict field, name and roleRef checks`);
  for (const p of problems) console.log(`  ✗ ${p}`);
  if (problems.length > 0) {
    console.log(`${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log('Kubernetes objects: no problems');
}

main(process.argv.slice(2));
