import { Token } from 'aws-cdk-lib';
import { PARTITIONS } from './constants';
import { show } from './errors';

/** What kind of IAM identity an ARN must name. */
export type IamArnKind = 'role' | 'user';

/** An IAM role or user ARN split into its parts. Parts may be CDK tokens. */
export interface IamArnParts {
  readonly partition: string;
  readonly account: string;
  readonly kind: IamArnKind;
  /** The IAM path, `/` when there is none; always starts and ends with `/`. */
  readonly path: string;
  readonly name: string;
}

const NAME_PATTERN = /^[\w+=,.@-]+$/;
const PATH_SEGMENT_PATTERN = /^[\u0021-\u002E\u0030-\u007E]+$/; // printable ASCII but '/'

function example(kind: IamArnKind, partition = 'aws', account = '111122223333', name = kind === 'role' ? 'MyRole' : 'alice') {
  return `arn:${PARTITIONS.includes(partition) ? partition : 'aws'}:iam::${/^\d{12}$/.test(account) ? account : '111122223333'}:${kind}/${name}`;
}

function otherFactory(kind: IamArnKind): string {
  return kind === 'role' ? 'AccessPrincipal.fromUserArn() / grantUser()' : 'AccessPrincipal.fromRoleArn() / grantRole()';
}

/**
 * Parses a fully literal IAM role or user ARN. Throws an error that names the value,
 * says what is wrong and how to fix it.
 *
 * @param context what the caller was doing, e.g. `AccessPrincipal.fromRoleArn()`
 */
export function parseIamArn(value: string, kind: IamArnKind, context: string): IamArnParts {
  const fail = (why: string, fix: string): never => {
    throw new Error(`${context}: ${show(value)} is not a valid IAM ${kind} ARN: ${why}. ${fix}`);
  };
  const expected = `Expected ${example(kind)} (an IAM ${kind} ARN, optionally with a path).`;

  if (typeof value !== 'string' || value.length === 0) fail('it is empty', expected);
  if (/\s/.test(value)) fail('it contains whitespace', `Remove the whitespace; ${expected}`);
  if (!value.startsWith('arn:')) fail('it is not an ARN', expected);

  const parts = value.split(':');
  if (parts.length < 6) fail('it has fewer than six colon-separated fields', expected);
  const [, partition, service, region, account] = parts;
  const resource = parts.slice(5).join(':');

  if (!PARTITIONS.includes(partition)) {
    fail(`unknown partition ${show(partition)}`, `Use one of ${PARTITIONS.join(', ')}.`);
  }
  if (service === 'sts' && resource.startsWith('assumed-role/')) {
    const roleName = resource.split('/')[1] ?? 'RoleName';
    fail('it is an STS assumed-role session ARN, not the IAM role',
      `Use the role ARN instead: ${example('role', partition, account, roleName)} (AccessPrincipal.fromRoleArn()).`);
  }
  if (service === 'sts' && resource.startsWith('federated-user/')) {
    fail('it is an STS federated-user session ARN, not an IAM user',
      `aws-auth maps IAM users and roles only; give the IAM ${kind} ARN, e.g. ${example(kind, partition, account)}.`);
  }
  if (service !== 'iam') fail(`service is ${show(service)}, not "iam"`, expected);
  if (region !== '') {
    fail(`IAM ARNs have no region, got ${show(region)}`, `Remove the region: ${example(kind, partition, account, resource.split('/').pop())}.`);
  }
  if (!/^\d{12}$/.test(account)) {
    fail(`the account id ${show(account)} must have exactly 12 digits (it has ${account.replace(/\D/g, '').length})`, expected);
  }
  if (resource === 'root') {
    fail('it is the account root, not a ' + kind, `Name a ${kind} in account ${account}, e.g. ${example(kind, partition, account)}.`);
  }
  const slash = resource.indexOf('/');
  const type = slash < 0 ? resource : resource.slice(0, slash);
  if (type !== kind) {
    if (type === 'group') fail('IAM groups cannot be mapped in aws-auth', 'Grant the roles or users of the group instead.');
    if (type === 'role' || type === 'user') fail(`it is a ${type} ARN`, `Use ${otherFactory(kind)} for it.`);
    fail(`resource type ${show(type)} is not "${kind}"`, expected);
  }
  const rest = slash < 0 ? '' : resource.slice(slash + 1);
  if (/[*?]/.test(rest)) {
    fail('wildcards never match in aws-auth', `Name one ${kind} exactly, e.g. ${example(kind, partition, account)}.`);
  }
  const segments = rest.split('/');
  const name = segments.pop() ?? '';
  if (name === '') fail(`the ${kind} name is empty`, expected);
  if (name.length > 64) fail(`the ${kind} name has ${name.length} characters; IAM allows at most 64`, expected);
  if (!NAME_PATTERN.test(name)) {
    fail(`the ${kind} name ${show(name)} has characters IAM does not allow`, 'IAM names use letters, digits and + = , . @ _ - only.');
  }
  for (const segment of segments) {
    if (!PATH_SEGMENT_PATTERN.test(segment)) {
      fail(`the path segment ${show(segment)} is empty or has characters IAM paths do not allow`, expected);
    }
  }
  const path = segments.length === 0 ? '/' : `/${segments.join('/')}/`;
  if (path.length > 512) fail('the IAM path is longer than 512 characters', expected);
  return { partition, account, kind, path, name };
}

/**
 * Parses an ARN that may contain CDK tokens. Literal parts are validated as in
 * `parseIamArn`; the resource part (type, path, name) must be literal, otherwise the
 * path cannot be stripped at synth time and `undefined` is returned.
 */
export function parseTokenizedIamArn(value: string, kind: IamArnKind, context: string): IamArnParts | undefined {
  if (!Token.isUnresolved(value)) return parseIamArn(value, kind, context);
  const parts = value.split(':');
  if (parts.length < 6) return undefined;
  const resource = parts.slice(5).join(':');
  if (Token.isUnresolved(resource) || Token.isUnresolved(parts[2]) || Token.isUnresolved(parts[3])) return undefined;
  // Substitute placeholders for the token parts and validate the rest.
  const partition = Token.isUnresolved(parts[1]) ? 'aws' : parts[1];
  const account = Token.isUnresolved(parts[4]) ? '111122223333' : parts[4];
  const literal = ['arn', partition, parts[2], parts[3], account, resource].join(':');
  const parsed = parseIamArn(literal, kind, context);
  return { ...parsed, partition: parts[1], account: parts[4] };
}

/** Renders an IAM ARN from parts (path `/` gives a path-less ARN). */
export function formatIamArn(parts: { partition: string; account: string; kind: IamArnKind; path: string; name: string }): string {
  return `arn:${parts.partition}:iam::${parts.account}:${parts.kind}${parts.path}${parts.name}`;
}
