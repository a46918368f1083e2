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

  /**
   * Whether the role or user also gets `eks:DescribeCluster` on this cluster (through
   * `iam.Grant.addToPrincipal`), which `aws eks update-kubeconfig` needs.
   *
   * `true` on a principal given by ARN (including SSO permission-set roles) or on an
   * immutable import throws: no policy can be attached to it. The access report prints
   * the statement for every principal that does not get it.
   *
   * @default - true for roles and users created in the app (`iam.Role`, `iam.User`); false
   * for imported ones (attaching a policy to an SSO, service-linked or externally managed
   * role fails the deploy) and for principals given by ARN
   */
  readonly describeCluster?: boolean;

  /**
   * Whether the principal may use the EKS console's Resources tab and Compute tab's nodes
   * for what its level lets it read.
   *
   * Adds RBAC, written by the reconciler (a Lambda function; on a cluster that otherwise has
   * access policies only, this brings it in): read (get, list) of nodes and namespaces
   * cluster-wide, and read of the console's resource types (without Secrets) in the level's
   * namespace, or cluster-wide for a cluster-wide level; nothing for `clusterAdmin()`. Where
   * `describeCluster` applies, the role or user also gets the console's IAM actions (some,
   * such as `eks:ListClusters`, cannot be limited to one cluster). A namespace pattern
   * throws.
   *
   * @default false
   */
  readonly consoleAccess?: boolean;
}

/** What ClusterAccess knows about a grant when it creates its AccessGrant (internal). */
interface GrantProps {
  principal: AccessPrincipal;
  level: AccessLevel;
  mappedArn: string;
  groups: string[];
  kubernetesObjects: Array<Record<string, any>>;
  accessPolicy?: string;
  describeCluster: boolean;
  username: () => string;
  description: string;
}

/** What one grant produced. */
export class AccessGrant {
  /** @internal */
  public static _create(props: GrantProps): AccessGrant {
    return new AccessGrant(props);
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
   * Whether this grant (or an earlier one to the same principal) gave the role or user
   * `eks:DescribeCluster` on the cluster (see `GrantOptions.describeCluster`).
   */
  public readonly describeCluster: boolean;
  /**
   * How messages name this grant: its level and principal, e.g. `the grant of
   * namespace-view(team-a) to role arn:aws:iam::111122223333:role/Dev`.
   */
  public readonly description: string;

  private readonly usernameOf: () => string;

  private constructor(props: GrantProps) {
    this.principal = props.principal;
    this.level = props.level;
    this.mappedArn = props.mappedArn;
    this.groups = props.groups;
    this.kubernetesObjects = props.kubernetesObjects;
    this.accessPolicy = props.accessPolicy;
    this.describeCluster = props.describeCluster;
    this.usernameOf = props.username;
    this.description = props.description;
  }

  /** The principal's Kubernetes username, after merging all grants to it. */
  public get username(): string {
    return this.usernameOf();
  }
}
