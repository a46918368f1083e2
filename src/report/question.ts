import { KUBE_RESOURCES, KUBE_RESOURCES_VERSION } from './kube-resources';
import { PARTITIONS } from '../private/constants';

/** A question for `canI`. */
export interface Question {
  principalArn: string;
  verb: string;
  resource: string;
  apiGroup?: string;
  namespace?: string;
  name?: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PARTITION = PARTITIONS.map(p => p.replace(/-/g, '\\-')).join('|');
/** What `aws sts get-caller-identity` can print, and IAM role and user ARNs (with a path or not). */
const PRINCIPAL_ARN = new RegExp(`^arn:(?:${PARTITION}):(?:iam::\\d{12}:(?:(?:role|user)/(?:[\\x21-\\x7e]+/)?[\\w+=,.@-]+|root)`
  + '|sts::\\d{12}:(?:assumed-role/[\\w+=,.@-]+/[\\w+=,.@-]+|federated-user/[\\w+=,.@-]+))$');

/** Built-in resource names by group, and the groups of each plural and singular name. */
const BY_GROUP = new Map<string, Set<string>>();
const GROUPS_OF = new Map<string, string[]>();
const PLURAL_OF = new Map<string, string>();
for (const [group, name, singular] of KUBE_RESOURCES) {
  if (!BY_GROUP.has(group)) BY_GROUP.set(group, new Set());
  BY_GROUP.get(group)!.add(name);
  if (!name.includes('/')) {
    GROUPS_OF.set(name, [...(GROUPS_OF.get(name) ?? []), group]);
    if (singular && singular !== name) PLURAL_OF.set(`${group} ${singular}`, name);
  }
}

/**
 * A `canI` question checked and put in the form Kubernetes authorizes: throws on a namespace
 * that is not a valid name or a principal that is not an IAM role, user or assumed-role
 * session ARN, naming the bad value; a built-in resource asked without its API group, or by
 * its singular name, or as `resource.group`, is resolved from the discovery of kube-apiserver
 * (KUBE_RESOURCES_VERSION); a built-in group asked for a resource it does not have, or a kind,
 * throws naming the right form. Resources of other groups (custom resources), subresources
 * discovery does not list (nodes/metrics) and short names (po, deploy) are taken as asked.
 */
export function normalizeQuestion(q: Question): Question {
  const where = `canI(${JSON.stringify(q.principalArn)}, ${JSON.stringify(q.verb)}, ${JSON.stringify(q.resource)})`;
  // a role or user the app creates, as the report renders its ARN: `${LogicalId.Arn}`, or an
  // ARN with deploy-time parts (`arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Role}`)
  const rendered = typeof q.principalArn === 'string' ? q.principalArn.replace(/\$\{[^{}]+\}/g, part =>
    (part === '${AWS::Partition}' ? 'aws' : part === '${AWS::AccountId}' ? '111122223333' : 'x')) : '';
  if (typeof q.principalArn !== 'string' || !(PRINCIPAL_ARN.test(rendered) || /^\$\{[^{}]+\}$/.test(q.principalArn))) {
    throw new Error(`${where}: the principal ${JSON.stringify(q.principalArn)} is not an IAM principal ARN. Ask with a role ARN (arn:aws:iam::111122223333:role/Name), a user ARN, an assumed-role session ARN as \`aws sts get-caller-identity\` prints it, or a role or user of the app as the report names it (\${LogicalId.Arn}).`);
  }
  if (q.namespace !== undefined && !DNS1123_LABEL.test(q.namespace)) {
    throw new Error(`${where}: the namespace ${JSON.stringify(q.namespace)} is not a valid Kubernetes namespace name (a DNS-1123 label: lowercase letters, digits and "-", at most 63 characters). Leave it out for a cluster-wide request.`);
  }
  if (q.namespace !== undefined && q.namespace.length > 63) {
    throw new Error(`${where}: the namespace ${JSON.stringify(q.namespace)} has ${q.namespace.length} characters (at most 63).`);
  }
  if (typeof q.verb !== 'string' || !/^[a-z*]+$/.test(q.verb)) {
    throw new Error(`${where}: the verb ${JSON.stringify(q.verb)} is not a Kubernetes verb (lowercase, e.g. "get", "list", "create", "delete", "escalate").`);
  }
  if (q.resource.startsWith('/')) return q;
  // kubectl's resource.group form (deployments.apps)
  const dotted = /^([a-z0-9-]+)\.([a-z0-9.-]+)(\/.*)?$/.exec(q.resource);
  if (dotted && q.apiGroup === undefined && BY_GROUP.has(dotted[2])) return normalizeQuestion({ ...q, resource: `${dotted[1]}${dotted[3] ?? ''}`, apiGroup: dotted[2] });
  const [base, sub, ...rest] = q.resource.split('/');
  if (rest.length > 0 || base === '' || sub === '') {
    throw new Error(`${where}: ${JSON.stringify(q.resource)} is not a resource: name a resource ("pods"), a subresource ("pods/exec") or a non-resource URL ("/healthz").`);
  }
  const withSub = (plural: string) => (sub === undefined ? plural : `${plural}/${sub}`);
  const plural = (group: string) => (BY_GROUP.get(group)?.has(base) ? base : PLURAL_OF.get(`${group} ${base}`));
  const source = `kube-apiserver ${KUBE_RESOURCES_VERSION}'s discovery`;

  if (q.apiGroup === undefined) {
    // the core group first, as kubectl resolves a bare name; else the one built-in group that has it
    const candidates = [...BY_GROUP.keys()].filter(g => plural(g) !== undefined).sort((a, b) => (a === '' ? -1 : b === '' ? 1 : 0));
    if (candidates.length === 0) {
      const lower = base.toLowerCase();
      const like = KUBE_RESOURCES.find(([, name, singular]) => !name.includes('/') && (name === lower || singular === lower));
      if (like) throw new Error(`${where}: Kubernetes names that resource ${JSON.stringify(withSub(like[1]))} (apiGroup ${JSON.stringify(like[0])}; ${source}): ask with that.`);
      return q; // not a built-in resource: a custom resource, taken as asked
    }
    const group = candidates[0] === '' || candidates.length === 1 ? candidates[0] : undefined;
    if (group === undefined) {
      throw new Error(`${where}: ${JSON.stringify(base)} is a resource of several API groups (${candidates.join(', ')}; ${source}). Name its apiGroup.`);
    }
    // a subresource discovery does not list (the kubelet's nodes/metrics, nodes/stats) is taken as asked
    return { ...q, apiGroup: group, resource: withSub(plural(group)!) };
  }
  if (!BY_GROUP.has(q.apiGroup)) return q; // a group the table does not know: a custom resource, taken as asked
  const p = plural(q.apiGroup);
  if (p !== undefined) return { ...q, resource: withSub(p) };
  const elsewhere = GROUPS_OF.get(base) ?? [...BY_GROUP.keys()].filter(g => PLURAL_OF.has(`${g} ${base}`));
  const hint = elsewhere.length > 0 ? ` It is in ${elsewhere.map(g => (g === '' ? 'the core group (apiGroup "")' : `apiGroup ${JSON.stringify(g)}`)).join(', ')}.` : ' Name the resource in the plural, as Kubernetes does ("deployments", "pods/log").';
  throw new Error(`${where}: the API group ${JSON.stringify(q.apiGroup)} has no resource ${JSON.stringify(q.resource)} (${source}).${hint}`);
}
