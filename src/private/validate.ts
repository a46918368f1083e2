import { Token } from 'aws-cdk-lib';
import { ERRORS, RESERVED_PREFIXES } from './constants';
import { codePoint, show } from './errors';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Throws unless `namespace` is a literal DNS-1123 label (what Kubernetes accepts as a namespace name). */
export function assertNamespace(namespace: string, context: string): void {
  if (typeof namespace !== 'string' || Token.isUnresolved(namespace)) {
    throw new Error(`${context}: the namespace must be known at synth time (it names generated RBAC objects), got ${show(namespace)}. Pass a literal namespace name.`);
  }
  const problems: string[] = [];
  if (namespace.length === 0) problems.push('it is empty');
  if (namespace.length > 63) problems.push(`it has ${namespace.length} characters (at most 63)`);
  if (namespace.length > 0 && !DNS1123_LABEL.test(namespace)) {
    problems.push('it must consist of lowercase letters, digits and "-", and start and end with a letter or digit');
  }
  if (problems.length > 0) {
    throw new Error(`${context}: ${show(namespace)} is not a valid Kubernetes namespace name: ${problems.join('; ')}. Use a DNS-1123 label such as "team-a".`);
  }
}

/**
 * Throws when `props` carries `namespace`, the field's name before 0.1.0 (renamed to
 * `namespaceName`: C# reserves `namespace`). JavaScript callers and TypeScript spreads or
 * variables still get past the types with it, and unread it would silently widen a
 * namespaced level or question to the whole cluster.
 */
export function refuseRenamedNamespace(props: object, context: string, subject: string, consequence: string): void {
  if ((props as { namespace?: unknown }).namespace === undefined) return;
  throw new Error(`${context}: ${subject} "namespace", which is not read: the field is "namespaceName" ("namespace" is reserved in C#). `
    + `Without it ${consequence}.`);
}

const NAMESPACE_PATTERN = /^[a-z0-9][-a-z0-9]*\*$/;

/** Whether `namespace` is an access-policy namespace pattern with a trailing `*` (e.g. `dev-*`). */
export function isNamespacePattern(namespace: string | undefined): boolean {
  return namespace !== undefined && namespace.endsWith('*');
}

/**
 * Throws unless `namespace` is a namespace name (see `assertNamespace`) or a pattern with
 * one trailing `*` after a non-empty prefix of one (e.g. `dev-*`), the wildcard form EKS
 * access-policy scopes accept. Patterns work only through access policies; where a grant
 * is written as RBAC, ClusterAccess refuses them at synth.
 */
export function assertNamespaceScope(namespace: string, context: string): void {
  if (typeof namespace === 'string' && !Token.isUnresolved(namespace) && namespace.endsWith('*')) {
    if (namespace.length > 63 || !NAMESPACE_PATTERN.test(namespace)) {
      throw new Error(`${context}: ${show(namespace)} is not a valid namespace pattern: a pattern is a prefix of a namespace name (lowercase letters, digits and "-", starting with a letter or digit) followed by one "*", at most 63 characters, e.g. "dev-*".`);
    }
    return;
  }
  assertNamespace(namespace, context);
}

/**
 * Characters that aws-auth cannot hold as written: go-yaml v2, which aws-iam-authenticator
 * reads aws-auth with, refuses control characters (C0 but tab and line breaks, DEL, C1 but
 * NEL), U+FFFE, U+FFFF and lone surrogates, and then drops the whole section ("control
 * characters are not allowed": every role unmapped, nodes included); it reads NEL as a line
 * break, U+2028 and U+2029 as line breaks outside quotes, and a byte-order mark at a line's
 * start as nothing. None of them has a use in a Kubernetes username or group. (Checked against
 * the real reader: test/real/aws-auth-characters.test.ts.)
 */
const AWS_AUTH_UNSAFE = /[\p{Cc}\p{Cs}\u2028\u2029\ufeff\ufffe\uffff]/u;

/** Throws when `value` holds a character aws-auth cannot hold (see AWS_AUTH_UNSAFE), naming it. */
function assertAwsAuthCharacters(value: string, what: string, context: string): void {
  const bad = AWS_AUTH_UNSAFE.exec(value);
  if (!bad) return;
  throw new Error(`[${ERRORS.characterAwsAuthCannotHold}] ${context}: the ${what} ${show(value)} holds the character ${codePoint(bad[0])}, which aws-iam-authenticator's YAML reader (go-yaml v2) refuses or reads as something else; in aws-auth it would drop every mapping of its section (nodes included). Remove the character.`);
}

function reservedPrefix(value: string): string | undefined {
  const lower = value.toLowerCase();
  return RESERVED_PREFIXES.find(p => lower.startsWith(p));
}

/** Throws unless `group` may be used as a Kubernetes group in aws-auth and access entries. */
export function assertGroup(group: string, context: string): void {
  if (typeof group !== 'string' || Token.isUnresolved(group)) {
    throw new Error(`${context}: groups must be known at synth time, got ${show(group)}. Pass a literal group name.`);
  }
  if (group.length === 0) throw new Error(`${context}: the group "" is empty. Remove it or name the group.`);
  if (/\s/.test(group)) throw new Error(`${context}: the group ${show(group)} contains whitespace. Remove it.`);
  assertAwsAuthCharacters(group, 'group', context);
  if (group === 'system:masters') {
    throw new Error(`${context}: the group "system:masters" cannot be passed in GrantOptions.groups or AccessLevel.existingGroups(). Use AccessLevel.clusterAdmin() to grant cluster admin explicitly.`);
  }
  const prefix = reservedPrefix(group);
  if (prefix) {
    throw new Error(`${context}: the group ${show(group)} starts with the reserved prefix ${show(prefix)} (EKS reserves ${RESERVED_PREFIXES.join(', ')}). Choose a group name without it, e.g. "platform:admins".`);
  }
}

const TEMPLATE = /\{\{([^{}]*)\}\}/g;
const ALLOWED_TEMPLATES = ['AccountID', 'SessionName', 'SessionNameRaw', 'AccessKeyID'];
const SESSION_TEMPLATES = ['SessionName', 'SessionNameRaw'];

/** Throws unless `username` is a valid aws-auth / access-entry username for a non-node principal. */
export function assertUsername(username: string, context: string): void {
  if (typeof username !== 'string' || Token.isUnresolved(username)) {
    throw new Error(`${context}: the username must be known at synth time, got ${show(username)}. Pass a literal username.`);
  }
  if (username.length === 0) throw new Error(`${context}: the username "" is empty. Leave it out to use the default, or name it.`);
  if (/\s/.test(username)) throw new Error(`${context}: the username ${show(username)} contains whitespace. Remove it.`);
  assertAwsAuthCharacters(username, 'username', context);
  const prefix = reservedPrefix(username);
  if (prefix) {
    throw new Error(`${context}: the username ${show(username)} starts with the reserved prefix ${show(prefix)} (EKS reserves ${RESERVED_PREFIXES.join(', ')}). Choose another username, e.g. "ops:{{SessionName}}".`);
  }
  for (const match of username.matchAll(TEMPLATE)) {
    const name = match[1];
    if (name === 'EC2PrivateDNSName') {
      throw new Error(`${context}: the username ${show(username)} uses {{EC2PrivateDNSName}}, which only node roles may use. Use {{SessionName}} with a prefix, e.g. "ops:{{SessionName}}".`);
    }
    if (!ALLOWED_TEMPLATES.includes(name)) {
      throw new Error(`${context}: the username ${show(username)} uses the unknown template {{${name}}}. Allowed: ${ALLOWED_TEMPLATES.map(t => `{{${t}}}`).join(', ')}.`);
    }
    if (SESSION_TEMPLATES.includes(name) && !username.slice(0, match.index).includes(':')) {
      throw new Error(`${context}: the username ${show(username)} starts with {{${name}}} without a colon before it, so whoever assumes the role could choose any username (e.g. "system:admin"). Put a prefix and a colon first, e.g. "sso:{{${name}}}".`);
    }
  }
  const unmatched = username.replace(TEMPLATE, '');
  if (unmatched.includes('{{') || unmatched.includes('}}')) {
    throw new Error(`${context}: the username ${show(username)} has an unbalanced "{{" or "}}". Templates look like {{SessionName}}.`);
  }
}

/**
 * Extra rules for usernames of EKS access entries: EKS documents only the session
 * templates there, so `{{AccountID}}` and `{{AccessKeyID}}` (aws-auth only) are refused.
 */
export function assertAccessEntryUsername(username: string, context: string): void {
  for (const match of username.matchAll(TEMPLATE)) {
    if (!SESSION_TEMPLATES.includes(match[1])) {
      throw new Error(`${context}: the username ${show(username)} uses {{${match[1]}}}, which aws-auth supports but EKS access entries do not document (only {{SessionName}} and {{SessionNameRaw}}); the cluster's authentication mode uses access entries. Use a username without it.`);
    }
  }
}
