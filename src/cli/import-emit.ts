import * as YAML from 'yaml';
import { RbacIndex } from './import-rbac';
import { AwsAuthInput } from './import-read';
import { AccessLevel } from '../access-level';
import { ARN_KEY, SECTIONS, Section, SectionItem, readSection, sectionProblem } from '../handlers/access-reconciler/aws-auth-read';
import { AccessPrincipal } from '../principal';
import { assertGroup, assertUsername } from '../private/validate';

/** What `import` prints: statements (stdout) and problems (stderr). */
export interface ImportResult {
  readonly code: string;
  readonly warnings: string[];
  /** How many grant statements the code holds. */
  readonly grants: number;
}

export interface ImportOptions {
  /** The name of the `EksCluster` variable in the printed code. */
  readonly varName: string;
  /** What the input is called in comments. */
  readonly source: string;
  /** The cluster's RBAC objects (`--rbac`). */
  readonly rbac?: RbacIndex;
}

const SSO_ROLE = /^arn:([^:]+):iam::(\d{12}):role\/(?:(.*)\/)?(AWSReservedSSO_[\w+=,.@-]{1,32}_[0-9a-fA-F]{16})$/;
const PATHED_ROLE = /^arn:[^:]+:iam::[^:]*:role\/(.+)\/([^/]+)$/;
const q = (s: string) => JSON.stringify(s);

/** An entry EKS writes (node groups, Fargate profiles): its username is a node's. */
function isNodeEntry(item: SectionItem): boolean {
  return item.username.startsWith('system:node:');
}

function describe(section: Section, item: SectionItem): string {
  const who = item.arn !== '' ? item.arn : item.sso ? `sso ${item.sso.permissionSetName} in account ${item.sso.accountID}` : 'no ARN';
  return `${section} item ${item.index + 1} (${who})`;
}

/** A factory call checked by running it: the printed code then throws nowhere. */
function checked(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/**
 * Turns aws-auth's entries into grant statements. The principal's entry is reproduced
 * exactly (same username, same groups) unless `--rbac` turns groups into levels, so that
 * the first deploy adopts each entry as it is.
 */
export function importAwsAuth(input: AwsAuthInput, options: ImportOptions): ImportResult {
  const warnings = [...input.warnings];
  const lines: string[] = [];
  const v = options.varName;
  let grants = 0;
  const note = (text: string) => lines.push(...text.split('\n').map(l => `// ${l}`));
  const warn = (text: string) => {
    warnings.push(text);
    note(text);
  };

  for (const section of SECTIONS) {
    const parsed = readSection(section, input[section]);
    if (parsed.state === 'invalid') {
      warnings.push(`${sectionProblem(section, parsed)}: none of it is imported`);
      continue;
    }
    if (parsed.typeErrors) {
      warnings.push(`aws-auth ${section}: ${parsed.typeErrors} (aws-iam-authenticator keeps that entry with the field empty): fix it`);
    }
    // the authenticator keeps the last of several entries for one ARN
    const last = new Map<string, number>();
    for (const item of parsed.items) if (item.valid && item.arn !== '') last.set(item.arn.toLowerCase(), item.index);
    for (const item of parsed.items) {
      const what = describe(section, item);
      if (!item.valid) {
        warnings.push(`${what}: aws-iam-authenticator ignores it (${item.arn === '' && !item.sso ? `no ${ARN_KEY[section]}` : 'not a valid mapping'}): not imported`);
        continue;
      }
      lines.push('');
      if (item.arn !== '' && last.get(item.arn.toLowerCase()) !== item.index) {
        warn(`${what}: a later entry maps the same ARN and aws-iam-authenticator uses only that one: this one is not imported (the deploy refuses while both are in aws-auth; remove one)`);
        continue;
      }
      if (isNodeEntry(item)) {
        note(`${what}: a node or Fargate role (username ${item.username}, groups ${item.groups.join(', ')}).\nEKS or the node group writes it; the reconciler leaves it alone (and adopts it for a node group of this app).`);
        continue;
      }
      if (/[*?]/.test(item.arn)) {
        warn(`${what}: its ARN holds "*" or "?", which aws-iam-authenticator compares literally (no wildcard; v0.7.18 pkg/config/mapper.go), and no IAM principal's name holds them, so it matches nobody; it stays in aws-auth as it is`);
        continue;
      }
      lines.push(...grantStatements(section, item, what, v, options.rbac, warn, note, n => grants += n));
    }
  }
  if (input.mapAccounts !== undefined && input.mapAccounts.trim() !== '' && input.mapAccounts.trim() !== '[]') {
    let accounts: unknown;
    try {
      accounts = YAML.parse(input.mapAccounts, { version: '1.1' });
    } catch {
      accounts = input.mapAccounts;
    }
    lines.push('');
    warn(`mapAccounts (${JSON.stringify(accounts)}) maps every role and user of those accounts; the library has no such grant.\nIt stays in aws-auth as it is (the reconciler never edits mapAccounts).`);
  }

  const header = [
    `// cdk-eks-access import ${options.source}: ${grants} grant statement${grants === 1 ? '' : 's'} for \`${v}\` (an EksCluster, or ClusterAccess.of(cluster)).`,
    "// Needs: import { AccessLevel, AccessPrincipal } from 'cdk-eks-access';",
    '// Each grant reproduces its aws-auth entry (username and groups), so the first deploy adopts the entry as it is;',
    '// `cdk-eks-access plan --aws-auth FILE` shows what the deploy would do.',
  ];
  return { code: `${[...header, ...lines].join('\n')}\n`, warnings, grants };
}

function grantStatements(
  section: Section, item: SectionItem, what: string, v: string, rbac: RbacIndex | undefined,
  warn: (t: string) => void, note: (t: string) => void, count: (n: number) => void,
): string[] {
  // the principal
  let principal: string;
  let check: () => unknown;
  if (item.sso) {
    principal = `AccessPrincipal.fromSsoPermissionSetName(${q(item.sso.permissionSetName)})`;
    check = () => AccessPrincipal.fromSsoPermissionSetName(item.sso!.permissionSetName);
    note(`${what}: every role of permission set ${item.sso.permissionSetName} in account ${item.sso.accountID}. The grant looks the role up by name at deploy\n`
      + 'time in the stack\'s account (deploy it there), and maps its ARN: the deploy refuses while this sso entry also matches it (remove it).');
  } else if (section === 'mapUsers') {
    principal = `AccessPrincipal.fromUserArn(${q(item.arn)})`;
    check = () => AccessPrincipal.fromUserArn(item.arn);
  } else if (SSO_ROLE.test(item.arn)) {
    principal = `AccessPrincipal.fromSsoPermissionSet(${q(item.arn)})`;
    check = () => AccessPrincipal.fromSsoPermissionSet(item.arn);
  } else {
    principal = `AccessPrincipal.fromRoleArn(${q(item.arn)})`;
    check = () => AccessPrincipal.fromRoleArn(item.arn);
  }
  const principalProblem = checked(check);
  if (principalProblem) {
    warn(`${what}: not imported, the library refuses the ARN: ${principalProblem}`);
    return [];
  }
  if (section === 'mapRoles' && PATHED_ROLE.test(item.arn)) {
    const pathless = item.arn.replace(PATHED_ROLE, (m, _path, name) => m.slice(0, m.indexOf(':role/') + 6) + name);
    warn(`${what} has an IAM path: aws-iam-authenticator compares path-less role ARNs, so this entry matches nobody today.\n`
      + `The grant maps ${pathless} (and keeps the full ARN for access entries), which gives the access this entry never gave;\n`
      + 'the pathed entry stays in aws-auth until removed by hand.');
  }

  // the username
  const opts: string[] = [];
  if (item.username === '') {
    warn(`${what} has no username: the grant gets the library's default one (the deploy refuses to change the entry: give it the username it should keep)`);
  } else {
    const problem = checked(() => assertUsername(item.username, what));
    if (problem) {
      warn(`${what}: not imported, the library refuses its username: ${problem}`);
      return [];
    }
    opts.push(`username: ${q(item.username)}`);
  }

  // the levels
  const levels: string[] = [];
  const kept: string[] = [];
  const translated: string[] = [];
  if (item.groups.includes('system:masters')) levels.push('AccessLevel.clusterAdmin()');
  for (const group of item.groups.filter(g => g !== 'system:masters')) {
    const problem = checked(() => assertGroup(group, what));
    if (problem) {
      warn(`${what}: not imported, the library refuses the group ${q(group)}: ${problem}`);
      return [];
    }
    const found = rbac?.levels.get(group);
    if (found) {
      for (const l of found) if (!levels.includes(l.code)) levels.push(l.code);
      translated.push(`${group} (${found.map(l => `${l.binding} → ${l.code}`).join('; ')})`);
    } else {
      kept.push(group);
    }
  }
  if (levels.length === 0 && kept.length === 0) {
    warn(`${what} maps no groups (only the username ${q(item.username)}): every grant needs a level; bind RBAC to a group and grant AccessLevel.existingGroups([...])`);
    return [];
  }
  if (translated.length > 0) {
    warn(`${what}: groups bound to built-in roles become levels: ${translated.join(', ')}.\n`
      + 'Its groups change, and the reconciler never changes an entry it did not write: remove this entry before the deploy (plan shows the refusal).');
  }
  if (kept.length > 0) {
    const existing = `AccessLevel.existingGroups([${kept.map(q).join(', ')}])`;
    if (levels.length === 0) levels.push(existing);
    else opts.push(`groups: [${kept.map(q).join(', ')}]`);
    note(`${what}: ${kept.join(', ')} ${kept.length === 1 ? 'is' : 'are'} bound outside the app (the library generates no binding for ${kept.length === 1 ? 'it' : 'them'}).`);
    if (levels[0] === existing) {
      const problem = checked(() => AccessLevel.existingGroups(kept));
      if (problem) {
        warn(`${what}: not imported: ${problem}`);
        return [];
      }
    }
  }
  const out: string[] = [];
  levels.forEach((level, i) => {
    const o = i === 0 ? opts : opts.filter(x => x.startsWith('username:'));
    out.push(`${v}.grant(${principal}, ${level}${o.length > 0 ? `, { ${o.join(', ')} }` : ''});`);
  });
  count(out.length);
  return out;
}
