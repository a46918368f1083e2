import { AccessLevel } from './access-level';
import { AccessPrincipal } from './principal';

/** Options for one grant. */
export interface GrantOptions {
  /**
   * The Kubernetes username of the principal (shows in audit logs). May use the
   * templates `{{AccountID}}`, `{{SessionName}}`, `{{SessionNameRaw}}` and
   * `{{AccessKeyID}}`; a session template needs a colon somewhere before it.
   * All grants to one principal must agree on it.
   *
   * @default - roles `role:<RoleName>:{{SessionName}}`, SSO permission-set roles
   * `sso:<PermissionSetName>:{{SessionName}}`, users `user:<UserName>`
   */
  readonly username?: string;

  /**
   * Extra Kubernetes groups for the principal. They are bound outside this app (the
   * library generates no binding for them). Reserved prefixes (`system:`, `eks:`,
   * `aws:`, `amazon:`, `iam:`) are rejected.
   *
   * @default - only the level's group
   */
  readonly groups?: string[];
}

/** What one grant produced. */
export class AccessGrant {
  /** @internal */
  public static _create(props: {
    principal: AccessPrincipal;
    level: AccessLevel;
    mappedArn: string;
    groups: string[];
    kubernetesObjects: Array<Record<string, any>>;
    accessPolicy?: string;
    username: () => string;
    description: string;
  }): AccessGrant {
    return new AccessGrant(props.principal, props.level, props.mappedArn, props.groups, props.kubernetesObjects,
      props.accessPolicy, props.username, props.description);
  }

  /** The principal granted. */
  public readonly principal: AccessPrincipal;
  /** The level granted. */
  public readonly level: AccessLevel;
  /**
   * The ARN as written to aws-auth.
   *
   * Path-less for roles, with the path for users; may contain tokens.
   */
  public readonly mappedArn: string;
  /**
   * The Kubernetes groups this grant maps the principal to (level group first, then
   * `GrantOptions.groups`). Without the level's group where an access policy stands for
   * the level and the cluster reads no aws-auth.
   */
  public readonly groups: string[];
  /**
   * The RBAC objects this grant needs.
   *
   * Shared with other grants of the same level; none where an access policy stands for the level.
   */
  public readonly kubernetesObjects: Array<Record<string, any>>;
  /**
   * The EKS access policy this grant associates with the principal's access entry, e.g.
   * `AmazonEKSViewPolicy` (its scope is the level's namespace, or the cluster).
   *
   * @default - none: the level is written as Kubernetes groups and RBAC
   */
  public readonly accessPolicy?: string;
  /**
   * How messages name this grant: its level and principal, e.g. `the grant of
   * namespace-view(team-a) to role arn:aws:iam::111122223333:role/Dev`.
   */
  public readonly description: string;

  private readonly usernameOf: () => string;

  private constructor(
    principal: AccessPrincipal, level: AccessLevel, mappedArn: string, groups: string[],
    objects: Array<Record<string, any>>, accessPolicy: string | undefined, username: () => string, description: string,
  ) {
    this.principal = principal;
    this.level = level;
    this.mappedArn = mappedArn;
    this.groups = groups;
    this.kubernetesObjects = objects;
    this.accessPolicy = accessPolicy;
    this.usernameOf = username;
    this.description = description;
  }

  /** The principal's Kubernetes username, after merging all grants to it. */
  public get username(): string {
    return this.usernameOf();
  }
}
