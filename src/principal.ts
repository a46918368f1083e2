import { ArnFormat, CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { formatIamArn, IamArnParts, parseIamArn, parseTokenizedIamArn } from './private/arn';
import { BoundPrincipal } from './private/bound-principal';
import { PARTITIONS } from './private/constants';
import { show } from './private/errors';
import { stackPartition } from './private/partition';
import { SsoRoleLookup } from './private/sso-role-lookup';

/** Which aws-auth list a principal goes into. */
export enum AccessPrincipalType {
  /** An IAM role (aws-auth `mapRoles`, path-less ARN). */
  ROLE = 'ROLE',
  /** An IAM user (aws-auth `mapUsers`, ARN with its path). */
  USER = 'USER',
}

/** Options for `AccessPrincipal.fromRoleName()`. */
export interface RoleNameOptions {
  /**
   * The account that owns the role (12 digits).
   *
   * @default - the account of the stack that holds the cluster
   */
  readonly account?: string;

  /**
   * The partition of the role (`aws`, `aws-cn`, `aws-us-gov`, ...).
   *
   * @default - the partition of the stack that holds the cluster
   */
  readonly partition?: string;
}

/** Options for `AccessPrincipal.fromSsoPermissionSetName()`. */
export interface SsoPermissionSetNameOptions {
  /**
   * Any value: changing it makes the deploy look the role up again.
   *
   * Change it after the permission set was re-provisioned (its role got a new suffix),
   * e.g. to the date.
   *
   * @default - the role is looked up when the grant is first deployed
   */
  readonly refresh?: string;
}

const SSO_ROLE_NAME = /^AWSReservedSSO_([\w+=,.@-]{1,32})_([0-9a-fA-F]{16})$/;
const SSO_PATH = /^\/aws-reserved\/sso\.amazonaws\.com\/([a-z]{2}(-[a-z]+)+-\d+\/)?$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

type Binder = (stack: Stack, scope: Construct) => Omit<BoundPrincipal, 'key' | 'source' | 'stableKey' | 'fullArn' | 'permissionSetName'>
  & { key?: string; fullArn?: string; stableKey?: string };

/** An account as `EntryIdentity` names it: `@stack` for the stack's own (its pseudo parameter, or the pinned env's value). */
function accountOf(stack: Stack, account: string | undefined): string {
  if (account === undefined) return '@stack';
  if (Token.isUnresolved(account)) {
    const resolved = JSON.stringify(stack.resolve(account));
    return resolved === JSON.stringify({ Ref: 'AWS::AccountId' }) ? '@stack' : resolved;
  }
  return !Token.isUnresolved(stack.account) && account === stack.account ? '@stack' : account;
}

/**
 * An IAM identity that can be granted access to a cluster: an IAM role, an IAM user,
 * or the IAM role of an IAM Identity Center (SSO) permission set.
 *
 * Factories check their input when called and throw an error that names the bad value.
 * Role ARNs are mapped **without their IAM path** (aws-auth matches the path-less ARN
 * that STS reports); user ARNs keep their path.
 */
export class AccessPrincipal {
  /**
   * An IAM role object. A role created in this app is rendered from its name
   * (path-less, even when the role has a path); an imported role from its ARN.
   *
   * An imported role whose ARN is an opaque token (e.g. `Fn.importValue`, a parameter)
   * is rejected (throws), because its IAM path cannot be stripped at synth time: use
   * `fromRoleName()` or a literal ARN instead.
   *
   * @param role a role created in this app, or imported with a literal ARN
   */
  public static fromRole(role: iam.IRole): AccessPrincipal {
    const context = `AccessPrincipal.fromRole(${role.node.path})`;
    if (isCreatedRole(role)) {
      return new AccessPrincipal(AccessPrincipalType.ROLE, `role ${role.node.path}`, role.roleArn, undefined, () => {
        const roleStack = Stack.of(role);
        return {
          type: AccessPrincipalType.ROLE,
          mappedArn: roleStack.formatArn({
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: role.roleName,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
          partition: literal(stackPartition(roleStack)),
          defaultUsername: `role:${role.roleName}:{{SessionName}}`,
          // its ARN has the stack's account, a literal once the stack's env is pinned: the
          // construct is what stays the same
          stableKey: `role-construct:${role.node.path}`,
          entryIdentity: { name: `role-construct:${role.node.path}`, account: '@stack' },
        };
      }, role);
    }
    const parts = parseTokenizedIamArn(role.roleArn, 'role', context);
    if (!parts) throw opaqueRoleArn(context, `the ARN of ${role.node.path}`);
    return AccessPrincipal.fromRoleParts(parts, role.roleArn, `role ${role.node.path}`, undefined, role);
  }

  /**
   * An IAM role by ARN, e.g. `arn:aws:iam::111122223333:role/teams/Deployer` (mapped
   * as `arn:aws:iam::111122223333:role/Deployer`).
   *
   * The ARN may contain tokens for the partition or account, but the part after
   * `role/` must be literal (an opaque token is rejected: use `fromRoleName()`). Throws,
   * naming the bad value, if the ARN is not an IAM role ARN (a user, an STS session,
   * a wildcard, a region, an account that is not 12 digits, an unknown partition, ...).
   *
   * @param roleArn the role's ARN, with or without its IAM path
   */
  public static fromRoleArn(roleArn: string): AccessPrincipal {
    const context = 'AccessPrincipal.fromRoleArn()';
    const parts = parseTokenizedIamArn(roleArn, 'role', context);
    if (!parts) throw opaqueRoleArn(context, show(roleArn));
    return AccessPrincipal.fromRoleParts(parts, roleArn, `role ${roleArn}`);
  }

  /**
   * An IAM role by name (never a path), in the cluster stack's account and partition
   * unless given. Use it for roles whose ARN is only known at deploy time.
   *
   * The name may be a token (e.g. a stack parameter). Throws if a literal name is not an
   * IAM role name (1 to 64 of `[\w+=,.@-]`, no path), the account not 12 digits or the
   * partition unknown.
   *
   * @param roleName the role's name, without its path
   * @param options the account and partition, when not the cluster stack's
   */
  public static fromRoleName(roleName: string, options: RoleNameOptions = {}): AccessPrincipal {
    const context = 'AccessPrincipal.fromRoleName()';
    if (!Token.isUnresolved(roleName) && !ROLE_NAME.test(roleName)) {
      throw new Error(`${context}: ${show(roleName)} is not an IAM role name: names have 1 to 64 letters, digits or + = , . @ _ - and no path. Give the name only, e.g. "Deployer" for arn:aws:iam::111122223333:role/teams/Deployer.`);
    }
    if (options.account !== undefined && !Token.isUnresolved(options.account) && !/^\d{12}$/.test(options.account)) {
      throw new Error(`${context}: the account ${show(options.account)} must have exactly 12 digits.`);
    }
    if (options.partition !== undefined && !Token.isUnresolved(options.partition) && !PARTITIONS.includes(options.partition)) {
      throw new Error(`${context}: unknown partition ${show(options.partition)}. Use one of ${PARTITIONS.join(', ')}.`);
    }
    return new AccessPrincipal(AccessPrincipalType.ROLE, `role named ${roleName}`, undefined, undefined, stack => {
      const partition = options.partition ?? stackPartition(stack);
      return {
        type: AccessPrincipalType.ROLE,
        mappedArn: formatIamArn({ partition, account: options.account ?? stack.account, kind: 'role', path: '/', name: roleName }),
        partition: literal(partition),
        defaultUsername: `role:${roleName}:{{SessionName}}`,
        // the stack's account and partition by what they are, not by their value (a literal once the env is pinned)
        stableKey: 'role-name:' + JSON.stringify(stack.resolve([options.account ?? '@stack', options.partition ?? '@stack', roleName])),
        entryIdentity: { name: `role:${JSON.stringify(stack.resolve(roleName)).toLowerCase()}`, account: accountOf(stack, options.account) },
      };
    });
  }

  /**
   * An IAM user object. Its ARN is mapped as is (users keep their path).
   *
   * @param user a user created in this app, or imported
   */
  public static fromUser(user: iam.IUser): AccessPrincipal {
    const context = `AccessPrincipal.fromUser(${user.node.path})`;
    const created = isCreated(user, 'AWS::IAM::User');
    const parts = created ? undefined : parseTokenizedIamArn(user.userArn, 'user', context);
    const name = created ? user.userName : parts?.name;
    return AccessPrincipal.userFrom(user.userArn, name, parts, `user ${user.node.path}`, user);
  }

  /**
   * An IAM user by ARN, e.g. `arn:aws:iam::111122223333:user/division/alice`
   * (mapped with its path, as STS reports users).
   *
   * Throws, naming the bad value, if the ARN is not an IAM user ARN.
   *
   * @param userArn the user's ARN, with its IAM path
   */
  public static fromUserArn(userArn: string): AccessPrincipal {
    const parts = parseTokenizedIamArn(userArn, 'user', 'AccessPrincipal.fromUserArn()');
    return AccessPrincipal.userFrom(userArn, parts?.name, parts, `user ${userArn}`);
  }

  /**
   * The IAM role that IAM Identity Center (SSO) creates for a permission set, by ARN as
   * shown in IAM, e.g.
   * `arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01`.
   *
   * The role name must be `AWSReservedSSO_<permission set>_<16 hex digits>` and the path
   * `/aws-reserved/sso.amazonaws.com/` (optionally with a region), or none (a path-less
   * ARN is accepted for aws-auth). The ARN is mapped without its path. Throws, naming the
   * bad value, otherwise.
   *
   * @param roleArn the permission set's role ARN as IAM shows it
   */
  public static fromSsoPermissionSet(roleArn: string): AccessPrincipal {
    const context = 'AccessPrincipal.fromSsoPermissionSet()';
    if (Token.isUnresolved(roleArn)) {
      throw new Error(`${context}: the SSO role ARN must be known at synth time so its name can be checked, got ${show(roleArn)}. Pass the literal ARN from the IAM console.`);
    }
    const parts = parseIamArn(roleArn, 'role', context);
    const match = SSO_ROLE_NAME.exec(parts.name);
    if (!match) {
      const tooLong = /^AWSReservedSSO_(.+)_[0-9a-fA-F]{16}$/.exec(parts.name);
      const why = tooLong && tooLong[1].length > 32
        ? `the permission-set name ${show(tooLong[1])} has ${tooLong[1].length} characters (at most 32)`
        : `the role name ${show(parts.name)} is not AWSReservedSSO_<permission set>_<16 hex digits>`;
      throw new Error(`${context}: ${show(roleArn)} is not an IAM Identity Center permission-set role: ${why}. Copy the role ARN from IAM (Roles, search "AWSReservedSSO_"), e.g. arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01; for other roles use AccessPrincipal.fromRoleArn().`);
    }
    if (parts.path !== '/' && !SSO_PATH.test(parts.path)) {
      throw new Error(`${context}: ${show(roleArn)} has the path ${show(parts.path)}; IAM Identity Center roles live under /aws-reserved/sso.amazonaws.com/ (optionally followed by a region). Copy the ARN from IAM, or use AccessPrincipal.fromRoleArn() for a role that is not an SSO role.`);
    }
    return AccessPrincipal.fromRoleParts(parts, parts.path === '/' ? undefined : roleArn, `SSO permission set ${match[1]} (${roleArn})`, match[1]);
  }

  /**
   * The IAM Identity Center role of a permission set, by the permission set's name, in the
   * cluster stack's account. The role (`AWSReservedSSO_<name>_<16 hex>`) is looked up at
   * deploy time by a custom resource that lists the roles under
   * `/aws-reserved/sso.amazonaws.com/` (adds one Lambda-backed custom resource per
   * permission set, and one provider function per stack, allowed only `iam:ListRoles`).
   * No match, or several, fails the deploy with the list of roles found.
   *
   * Its path-less ARN goes to aws-auth and its full ARN to access entries, as
   * CloudFormation attributes. Do not also grant the same permission set by role ARN
   * (that is a synth error: two entries for one role).
   *
   * Throws if the name is not 1 to 32 of `[\w+=,.@-]`, or is a token.
   *
   * @param permissionSetName the permission set's name, e.g. `ViewOnlyAccess`
   * @param options when to look the role up again
   */
  public static fromSsoPermissionSetName(permissionSetName: string, options: SsoPermissionSetNameOptions = {}): AccessPrincipal {
    const context = 'AccessPrincipal.fromSsoPermissionSetName()';
    if (typeof permissionSetName !== 'string' || Token.isUnresolved(permissionSetName) || !/^[\w+=,.@-]{1,32}$/.test(permissionSetName)) {
      throw new Error(`${context}: ${show(permissionSetName)} is not a permission-set name: names have 1 to 32 letters, digits or + = , . @ _ - (e.g. "ViewOnlyAccess") and must be known at synth time.`);
    }
    if (options.refresh !== undefined && Token.isUnresolved(options.refresh)) {
      throw new Error(`${context}: refresh must be known at synth time, got ${show(options.refresh)}.`);
    }
    return new AccessPrincipal(AccessPrincipalType.ROLE, `SSO permission set ${permissionSetName} (by name)`, undefined, permissionSetName, (_stack, scope) => {
      const lookup = SsoRoleLookup.of(scope, permissionSetName, options.refresh);
      return {
        type: AccessPrincipalType.ROLE,
        mappedArn: lookup.pathlessArn,
        key: `sso-permission-set:${permissionSetName.toLowerCase()}`,
        fullArn: lookup.arn,
        byName: true,
        defaultUsername: `sso:${permissionSetName}:{{SessionName}}`,
        entryIdentity: { name: `sso-permission-set:${permissionSetName.toLowerCase()}`, account: '@stack' },
      };
    });
  }

  private static fromRoleParts(
    parts: IamArnParts, fullArn: string | undefined, description: string, permissionSet?: string, source?: IConstruct,
  ): AccessPrincipal {
    const sso = permissionSet ?? (parts.path === '/' || SSO_PATH.test(parts.path) ? SSO_ROLE_NAME.exec(parts.name)?.[1] : undefined);
    const mappedArn = formatIamArn({ ...parts, path: '/' });
    const defaultUsername = sso ? `sso:${sso}:{{SessionName}}` : `role:${parts.name}:{{SessionName}}`;
    return new AccessPrincipal(AccessPrincipalType.ROLE, description, fullArn, sso, stack => ({
      type: AccessPrincipalType.ROLE,
      mappedArn,
      partition: literal(parts.partition),
      defaultUsername,
      entryIdentity: { name: `role:${parts.name.toLowerCase()}`, account: accountOf(stack, parts.account) },
    }), source);
  }

  private static userFrom(
    userArn: string, name: string | undefined, parts: IamArnParts | undefined, description: string, source?: IConstruct,
  ): AccessPrincipal {
    return new AccessPrincipal(AccessPrincipalType.USER, description, userArn, undefined, stack => ({
      type: AccessPrincipalType.USER,
      mappedArn: userArn,
      entryIdentity: name !== undefined && !Token.isUnresolved(name)
        ? { name: `user:${name.toLowerCase()}`, account: accountOf(stack, parts?.account) }
        : { name: `user:${JSON.stringify(stack.resolve(userArn))}`, account: '@stack' },
      partition: parts ? literal(parts.partition) : undefined,
      // without a known name, fall back to the ARN (what aws-iam-authenticator uses by default)
      defaultUsername: name !== undefined ? `user:${name}` : userArn,
    }), source);
  }

  /** Whether this principal goes into `mapRoles` or `mapUsers`. */
  public readonly principalType: AccessPrincipalType;

  /**
   * The full ARN as given (roles with their IAM path).
   *
   * @default - unknown (a role given by name, or a path-less SSO role ARN)
   */
  public readonly arn?: string;

  /**
   * The IAM Identity Center permission-set name, for SSO roles.
   *
   * @default - not an SSO permission-set role
   */
  public readonly permissionSetName?: string;

  /** A human-readable description used in messages. */
  public readonly description: string;

  private readonly binder: Binder;
  private readonly source?: IConstruct;

  private constructor(
    type: AccessPrincipalType, description: string, arn: string | undefined, permissionSetName: string | undefined,
    binder: Binder, source?: IConstruct,
  ) {
    this.principalType = type;
    this.description = description;
    this.arn = arn;
    this.permissionSetName = permissionSetName;
    this.binder = binder;
    this.source = source;
  }

  /**
   * Renders this principal for the stack that holds the cluster.
   *
   * @internal
   */
  public _bind(scope: Construct): BoundPrincipal {
    const stack = Stack.of(scope);
    const bound = this.binder(stack, scope);
    const tokenized = Token.isUnresolved(bound.mappedArn);
    const key = bound.key ?? (tokenized ? bound.mappedArn : bound.mappedArn.toLowerCase());
    const stableKey = bound.key ?? bound.stableKey ?? (tokenized ? JSON.stringify(stack.resolve(bound.mappedArn)) : key);
    return { ...bound, key, stableKey, fullArn: bound.fullArn ?? this.arn, source: this.source, permissionSetName: this.permissionSetName };
  }
}

function literal(value: string): string | undefined {
  return Token.isUnresolved(value) ? undefined : value;
}

function isCreated(resource: IConstruct, cfnType: string): boolean {
  const child = resource.node.defaultChild;
  return child !== undefined && CfnResource.isCfnResource(child) && child.cfnResourceType === cfnType;
}

function isCreatedRole(role: iam.IRole): boolean {
  return isCreated(role, 'AWS::IAM::Role');
}

function opaqueRoleArn(context: string, what: string): Error {
  return new Error(`${context}: ${what} is a token whose role name and path are unknown at synth time, so the IAM path cannot be stripped for aws-auth (a pathed ARN would silently lock users out). Use AccessPrincipal.fromRoleName(name) with the role's name (it may be a token), pass the iam.Role created in this app, or give a literal ARN.`);
}
