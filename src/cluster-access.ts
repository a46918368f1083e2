import { Annotations, CfnResource, CustomResource, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { accessPolicyOf, mergeAssociations } from './access-entry/access-policies';
import { AccessEntryWriter } from './access-entry/writer';
import { AccessLevel } from './access-level';
import { AwsAuthModel } from './aws-auth/model';
import { ReconciledAwsAuthWriter } from './aws-auth/reconciled-writer';
import { BuiltInLevelBackend, ClusterAccessOptions } from './cluster-access-options';
import { AccessGrant, GrantOptions } from './grant';
import { NAMESPACES_RESOURCE_TYPE, RBAC_RESOURCE_TYPE } from './handlers/access-reconciler/protocol';
import { AccessPrincipal } from './principal';
import { validateAccess } from './private/access-validation';
import { BoundPrincipal } from './private/bound-principal';
import { ClusterConstruct, sameCluster } from './private/cluster-identity';
import { BUILT_IN_NAMESPACES, ERRORS, RBAC_CHUNK_TARGET_BYTES, WARNINGS } from './private/constants';
import { consoleStatements, grantDescribeCluster } from './private/describe-cluster';
import { show } from './private/errors';
import { stackPartition } from './private/partition';
import { ReconcilerProvider } from './private/reconciler-provider';
import { bootstrapsCreatorAdmin, TargetCluster, targetOfV1, targetOfV2 } from './private/target-cluster';
import { assertAccessEntryUsername, assertGroup, assertUsername, isNamespacePattern } from './private/validate';
import { assignChunks } from './rbac/chunking';
import { consoleAccess } from './rbac/console';
import { KubeObject, objectKey } from './rbac/objects';

const ID = 'CdkEksAccess';

/**
 * aws-eks-v2's base class of clusters, defined and imported (its import class is not
 * exported): the class named `ClusterBase` in the prototype chain of `eksv2.Cluster`.
 */
const V2_CLUSTER_BASE: Function | undefined = (() => {
  for (let p = Object.getPrototypeOf(eksv2.Cluster.prototype); p; p = Object.getPrototypeOf(p)) {
    if (p.constructor?.name === 'ClusterBase') return p.constructor;
  }
  return undefined;
})();

/** Whether a construct is an aws-eks-v2 cluster imported with `eksv2.Cluster.fromClusterAttributes`. */
function isV2Import(cluster: unknown): boolean {
  return V2_CLUSTER_BASE !== undefined && cluster instanceof V2_CLUSTER_BASE && !(cluster instanceof eksv2.Cluster);
}

/** Whether two sets of options mean the same for a cluster (defaults filled in, subnets compared by content). */
function sameOptions(target: TargetCluster, a: ClusterAccessOptions, b: ClusterAccessOptions): boolean {
  const backend = (o: ClusterAccessOptions) => o.builtInLevelBackend ?? (target.v2 ? BuiltInLevelBackend.ACCESS_POLICY : BuiltInLevelBackend.RBAC);
  const subnets = (o: ClusterAccessOptions) => JSON.stringify(o.reconcilerSubnets === undefined ? null
    : Stack.of(target.construct).resolve({ ...o.reconcilerSubnets, subnets: o.reconcilerSubnets.subnets?.map(s => s.subnetId) }));
  return backend(a) === backend(b) && a.createNamespaces === b.createNamespaces && subnets(a) === subnets(b);
}

function describeOptions(o: ClusterAccessOptions): string {
  const parts = [
    o.builtInLevelBackend !== undefined ? `builtInLevelBackend ${o.builtInLevelBackend}` : undefined,
    o.createNamespaces !== undefined ? `createNamespaces ${o.createNamespaces}` : undefined,
    o.reconcilerSubnets !== undefined ? 'reconcilerSubnets' : undefined,
  ].filter(x => x !== undefined);
  return parts.length > 0 ? parts.join(', ') : 'defaults';
}

interface Chunk {
  readonly construct: CustomResource;
  /** The objects the resource renders (lazily, so we refill the array in place). */
  readonly objects: KubeObject[];
}

/**
 * Access to one EKS cluster (aws-eks or aws-eks-v2): collects grants and renders them into
 * the cluster's aws-auth ConfigMap and/or EKS access entries (one entry per principal, as
 * the authentication mode requires), with EKS access policies or generated RBAC objects.
 *
 * Get it with `ClusterAccess.of(cluster)` (aws-eks) or `ClusterAccess.ofV2(cluster)`
 * (aws-eks-v2); there is one per cluster.
 *
 * Everything that goes into the cluster is written by the library's own reconciler (one
 * Lambda function behind the CDK provider framework, per cluster), which owns exactly
 * what it wrote: its aws-auth entries (merged into the ConfigMap, which is created when
 * absent and never deleted; entries of others stay), the namespaces the grants use
 * (created when absent, never deleted), and the RBAC objects (applied, and deleted when a
 * grant goes). Mappings that aws-eks adds for node groups, Fargate profiles, ASG capacity
 * and `mastersRole` are written by the same reconciler.
 *
 * What it adds to the template: the reconciler (2 functions, 2 roles, 2 policies, a log
 * group, and on aws-eks-v2 one access entry for itself; only when something is written
 * into the cluster, not for access entries and access policies alone), one
 * `Custom::CdkEksAccessAwsAuth` in CONFIG_MAP and API_AND_CONFIG_MAP modes, one
 * `AWS::EKS::AccessEntry` per principal in API and API_AND_CONFIG_MAP modes, one
 * `Custom::CdkEksAccessNamespaces` when grants use namespaces, and as few
 * `Custom::CdkEksAccessRbac` as fit the size limit (usually one).
 */
export class ClusterAccess extends Construct {
  /**
   * The access of an aws-eks `cluster`, created on first use.
   *
   * Works for any aws-cdk-lib
   * `eks.Cluster` (not only `EksCluster`) and for clusters imported with
   * `eks.Cluster.fromClusterAttributes` with a `kubectlRoleArn` (or `kubectlProvider`)
   * whose role holds cluster admin. An imported cluster is written through aws-auth (its
   * authentication mode is not known to the app); the reconciler asks EKS for its endpoint
   * and certificate authority at deploy time (`eks:DescribeCluster`), on every event.
   *
   * Throws if `cluster` is an `aws-eks-v2` cluster (use `ofV2()`) or not an aws-eks
   * cluster; if `options` differ from those of an earlier call for the same cluster; and
   * if `options.builtInLevelBackend` is `ACCESS_POLICY` on a cluster that reads aws-auth
   * only (CONFIG_MAP, or imported).
   *
   * @param cluster an aws-cdk-lib/aws-eks cluster, defined in the app or imported
   * @param options how grants are written, given on the first call (later calls may leave them out)
   */
  public static of(cluster: eks.ICluster, options?: ClusterAccessOptions): ClusterAccess {
    return ClusterAccess.ofV1(cluster, options, 'ClusterAccess.of');
  }

  /**
   * `of()`, naming the caller in messages (EksCluster passes its own props).
   *
   * @internal
   */
  public static _of(cluster: eks.ICluster, options: ClusterAccessOptions | undefined, method: string): ClusterAccess {
    return ClusterAccess.ofV1(cluster, options, method);
  }

  /**
   * The access of an aws-eks-v2 `cluster`, created on first use.
   *
   * For `eksv2.Cluster`, and clusters imported with `eksv2.Cluster.fromClusterAttributes`
   * (no kubectl provider needed). aws-eks-v2 clusters use
   * the API authentication mode: every principal gets one `AWS::EKS::AccessEntry`; the
   * built-in levels are EKS access policies by default, so granting only those adds no
   * Lambda and no custom resource. Custom levels (and built-in levels with
   * `builtInLevelBackend: RBAC`) add Kubernetes groups to the entry and the reconciler,
   * which authenticates with an access entry of its own (`AmazonEKSClusterAdminPolicy`)
   * and needs no kubectl provider.
   *
   * Throws if `cluster` is not an aws-eks-v2 cluster, or if `options` differ from those of
   * an earlier call for the same cluster.
   *
   * @param cluster an aws-cdk-lib/aws-eks-v2 cluster, defined in the app or imported
   * @param options how grants are written, given on the first call (later calls may leave them out)
   */
  public static ofV2(cluster: eksv2.ICluster, options?: ClusterAccessOptions): ClusterAccess {
    if (!(cluster instanceof eksv2.Cluster) && !isV2Import(cluster)) {
      throw new Error(`[${ERRORS.wrongClusterModule}] ClusterAccess.ofV2(${Construct.isConstruct(cluster) ? cluster.node.path : String(cluster)}): expected an aws-cdk-lib/aws-eks-v2 cluster (eksv2.Cluster or eksv2.Cluster.fromClusterAttributes); for aws-eks clusters use ClusterAccess.of().`);
    }
    return ClusterAccess.obtain(targetOfV2(cluster), options, 'ClusterAccess.ofV2');
  }

  private static ofV1(cluster: eks.ICluster, options: ClusterAccessOptions | undefined, method: string): ClusterAccess {
    if ((cluster as unknown) instanceof eksv2.Cluster || isV2Import(cluster)) {
      throw new Error(`[${ERRORS.wrongClusterModule}] ClusterAccess.of(${cluster.node.path}): this is an aws-cdk-lib/aws-eks-v2 cluster; use ClusterAccess.ofV2(cluster).`);
    }
    if (!Construct.isConstruct(cluster) || typeof (cluster as eks.ICluster).clusterName !== 'string') {
      throw new Error(`ClusterAccess.of(${String(cluster)}): expected an aws-cdk-lib/aws-eks cluster (eks.Cluster, EksCluster.cluster, or eks.Cluster.fromClusterAttributes).`);
    }
    return ClusterAccess.obtain(targetOfV1(cluster), options, method);
  }

  private static obtain(target: TargetCluster, options: ClusterAccessOptions | undefined, method: string): ClusterAccess {
    const existing = target.construct.node.tryFindChild(ID);
    if (existing instanceof ClusterAccess) {
      if (options !== undefined && !sameOptions(target, options, existing.options)) {
        throw new Error(`[${ERRORS.optionsDiffer}] ${method}(${target.construct.node.path}): the access of this cluster was already created with other options (${describeOptions(existing.options)}); now ${describeOptions(options)}. A cluster has one ClusterAccess: pass the options on the first call only, or the same ones.`);
      }
      return existing;
    }
    return new ClusterAccess(target, options ?? {}, method);
  }

  /**
   * The aws-eks cluster this access belongs to.
   *
   * @default - undefined for an aws-eks-v2 cluster (see `clusterV2`)
   */
  public readonly cluster?: eks.ICluster;

  /**
   * The aws-eks-v2 cluster this access belongs to.
   *
   * @default - undefined for an aws-eks cluster (see `cluster`)
   */
  public readonly clusterV2?: eksv2.ICluster;

  /** The cluster's name (a token when the cluster is created in the app). */
  public readonly clusterName: string;

  /** How the built-in levels are written into this cluster. */
  public readonly builtInLevelBackend: BuiltInLevelBackend;

  private readonly target: TargetCluster;
  private readonly options: ClusterAccessOptions;
  private readonly model = new AwsAuthModel();
  private reconcilerProvider?: ReconcilerProvider;
  private readonly writer?: ReconciledAwsAuthWriter;
  private readonly grantList: AccessGrant[] = [];
  private readonly bound: BoundPrincipal[] = [];
  /** merge key of the model -> the levels granted to that principal */
  private readonly levels = new Map<string, AccessLevel[]>();
  private warnedAdminPolicy = false;
  /** merge keys of the principals that got eks:DescribeCluster */
  private readonly describing = new Set<string>();
  /** merge keys of the principals that got the console's IAM actions */
  private readonly consoleIam = new Set<string>();
  private readonly objects = new Map<string, KubeObject>();
  private readonly chunks = new Map<string, Chunk>();
  private readonly namespaces = new Set<string>();
  private namespacesResource?: CustomResource;
  private readonly rbacScope: Construct;
  private readonly accessEntries?: AccessEntryWriter;

  private constructor(target: TargetCluster, options: ClusterAccessOptions, method: string) {
    super(target.construct, ID);
    this.target = target;
    this.options = { ...options };
    this.cluster = target.v1;
    this.clusterV2 = target.v2;
    this.clusterName = target.clusterName;
    this.builtInLevelBackend = options.builtInLevelBackend ?? (target.v2 ? BuiltInLevelBackend.ACCESS_POLICY : BuiltInLevelBackend.RBAC);
    if (this.builtInLevelBackend === BuiltInLevelBackend.ACCESS_POLICY && !this.usesAccessEntries) {
      const mode = target.authenticationMode ?? 'unknown to the app (an imported cluster is written through aws-auth)';
      const where = method === 'EksCluster' ? `EksCluster ${target.construct.node.scope?.node.path}: EksClusterProps.builtInLevelBackend` : `${method}(${target.construct.node.path}): builtInLevelBackend`;
      throw new Error(`[${ERRORS.accessPolicyNeedsAccessEntries}] ${where} ACCESS_POLICY needs access entries, but the cluster's authentication mode is ${mode}. Use BuiltInLevelBackend.RBAC, or a cluster in the API or API_AND_CONFIG_MAP mode (defined in the app).`);
    }
    if (options.reconcilerSubnets !== undefined && !target.v2) {
      throw new Error(`${method}(${target.construct.node.path}): reconcilerSubnets applies to aws-eks-v2 clusters only; on aws-eks clusters the reconciler runs where the cluster's kubectl handler runs (kubectlPrivateSubnets).`);
    }
    if (this.usesConfigMap) {
      this.writer = new ReconciledAwsAuthWriter(this, this.reconciler, this.model);
      if (target.v1 instanceof eks.Cluster) this.writer.absorb(target.v1);
    }
    this.rbacScope = new Construct(this, 'Rbac');
    if (this.usesAccessEntries) {
      this.accessEntries = new AccessEntryWriter(this, target.clusterName, this.model, {
        associations: key => mergeAssociations((this.levels.get(key) ?? [])
          .filter(l => l.isClusterAdmin || this.isPolicyBacked(l))
          .map(l => accessPolicyOf(l)!)),
        replacedGroups: key => new Set((this.levels.get(key) ?? []).filter(l => this.isPolicyBacked(l)).map(l => l.group)),
      });
      // a principal gets a group only once its binding (and namespace) exist: the entries
      // wait for the RBAC resources (no DependsOn while there are none)
      this.accessEntries.dependOn(this.rbacScope);
    }
    if (target.v1 && !target.definedInApp) {
      Annotations.of(this).addWarningV2(WARNINGS.importedAuthenticationMode,
        `the authentication mode of the imported cluster ${target.construct.node.path} is unknown to the app; grants are written to aws-auth, which EKS reads in CONFIG_MAP and API_AND_CONFIG_MAP modes only. For a cluster in API mode, define it with EksCluster or eks.Cluster.`);
    }
    if (target.v2 && bootstrapsCreatorAdmin(target) === true) {
      Annotations.of(this).addWarningV2(WARNINGS.bootstrapCreatorAdmin,
        `the aws-eks-v2 cluster ${target.construct.node.path} gives whoever creates it (the CloudFormation execution role, or the identity that deploys) cluster admin through an access entry that EKS creates and neither CloudFormation nor this library manages, so the cluster has an admin besides the ones granted here. Set bootstrapClusterCreatorAdminPermissions: false on a new cluster and grant the admin explicitly (changing it on an existing cluster replaces the cluster).`);
    }
    this.node.addValidation({ validate: () => this.validate() });
  }

  /** The reconciler, created when something needs writing into the cluster (not for access entries alone). */
  private get reconciler(): ReconcilerProvider {
    this.reconcilerProvider = this.reconcilerProvider ?? new ReconcilerProvider(this, 'Reconciler', this.target, this.options.reconcilerSubnets);
    return this.reconcilerProvider;
  }

  /** Whether the cluster's authentication mode reads aws-auth (CONFIG_MAP, API_AND_CONFIG_MAP; an imported aws-eks cluster). */
  private get usesConfigMap(): boolean {
    return this.target.authenticationMode !== eks.AuthenticationMode.API;
  }

  /** Whether the cluster's authentication mode reads access entries (API, API_AND_CONFIG_MAP). */
  private get usesAccessEntries(): boolean {
    const mode = this.target.authenticationMode;
    return mode === eks.AuthenticationMode.API || mode === eks.AuthenticationMode.API_AND_CONFIG_MAP;
  }

  /** Whether a level is written as an access policy on the access entry (instead of a group and RBAC there). */
  private isPolicyBacked(level: AccessLevel): boolean {
    return this.builtInLevelBackend === BuiltInLevelBackend.ACCESS_POLICY && !level.isClusterAdmin
      && this.usesAccessEntries && accessPolicyOf(level) !== undefined;
  }

  /**
   * Grants an IAM role (path stripped for aws-auth). Returns what the grant produced.
   *
   * Throws, naming the grant (its level and principal) and the construct path, if
   * `options.username` or `options.groups` is not valid (a token; a reserved prefix
   * `system:`, `eks:`, `aws:`, `amazon:` or `iam:`; a username template that is not
   * allowed), or if an earlier grant to the same principal set another username.
   * Conflicts that need the whole app (another writer's entry for the principal, the
   * 500-resource limit, ...) fail at synth, as validation errors.
   * Also throws for an imported role whose ARN is an opaque token (see
   * `AccessPrincipal.fromRole()`).
   *
   * @param role a role created in this app, or imported with a literal ARN
   * @param level the level of access
   * @param options the username and extra groups
   */
  public grantRole(role: iam.IRole, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    return this.grant(AccessPrincipal.fromRole(role), level, options);
  }

  /**
   * Grants an IAM user (ARN with its path). Returns what the grant produced.
   *
   * Throws, naming the grant (its level and principal) and the construct path, if
   * `options.username` or `options.groups` is not valid (a token; a reserved prefix
   * `system:`, `eks:`, `aws:`, `amazon:` or `iam:`; a username template that is not
   * allowed), or if an earlier grant to the same principal set another username.
   * Conflicts that need the whole app (another writer's entry for the principal, the
   * 500-resource limit, ...) fail at synth, as validation errors.
   *
   * @param user a user created in this app, or imported
   * @param level the level of access
   * @param options the username and extra groups
   */
  public grantUser(user: iam.IUser, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    return this.grant(AccessPrincipal.fromUser(user), level, options);
  }

  /**
   * Grants the IAM role of an IAM Identity Center permission set, by the role ARN as IAM
   * shows it (with `/aws-reserved/sso.amazonaws.com/...` path, stripped for aws-auth).
   *
   * Throws, naming the grant (its level and principal) and the construct path, if
   * `options.username` or `options.groups` is not valid (a token; a reserved prefix
   * `system:`, `eks:`, `aws:`, `amazon:` or `iam:`; a username template that is not
   * allowed), or if an earlier grant to the same principal set another username.
   * Conflicts that need the whole app (another writer's entry for the principal, the
   * 500-resource limit, ...) fail at synth, as validation errors.
   * Also throws if `roleArn` is not a permission-set role ARN (see
   * `AccessPrincipal.fromSsoPermissionSet()`).
   *
   * @param roleArn the permission set's role ARN as IAM shows it
   * @param level the level of access
   * @param options the username and extra groups
   */
  public grantSsoPermissionSet(roleArn: string, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    return this.grant(AccessPrincipal.fromSsoPermissionSet(roleArn), level, options);
  }

  /**
   * Grants any principal a level of access: maps it (aws-auth entry and/or access entry)
   * to the level's group (plus `options.groups`) and generates the RBAC objects that bind
   * the group; cluster admin is `system:masters` or `AmazonEKSClusterAdminPolicy`.
   *
   * Throws, naming the grant (its level and principal) and the construct path, if
   * `options.username` or `options.groups` is not valid (a token; a reserved prefix
   * `system:`, `eks:`, `aws:`, `amazon:` or `iam:`; a username template that is not
   * allowed), or if an earlier grant to the same principal set another username.
   * Conflicts that need the whole app (another writer's entry for the principal, the
   * 500-resource limit, ...) fail at synth, as validation errors.
   *
   * @param principal who gets access (see `AccessPrincipal`)
   * @param level the level of access
   * @param options the username and extra groups
   */
  public grant(principal: AccessPrincipal, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    return this.addGrant(principal, level, options, `the grant of ${level.toString()} to ${principal.description}`);
  }

  /**
   * The admin grant an EksCluster makes for its admin role, named as that cluster's own in
   * messages (the user never wrote it).
   *
   * @internal
   */
  public _grantAdmin(owner: Construct, principal: AccessPrincipal): AccessGrant {
    const level = AccessLevel.clusterAdmin();
    // describeCluster: EksCluster gives a role it creates eks:DescribeCluster itself, and
    // leaves a given adminRole's permissions to its owner
    return this.addGrant(principal, level, { describeCluster: false },
      `the admin grant of EksCluster ${owner.node.path} (${level.toString()} to ${principal.description})`);
  }

  private addGrant(principal: AccessPrincipal, level: AccessLevel, options: GrantOptions, description: string): AccessGrant {
    const where = this.node.path;
    if (options.username !== undefined) {
      assertUsername(options.username, `${where}: ${description}`);
      if (this.usesAccessEntries) assertAccessEntryUsername(options.username, `${where}: ${description}`);
    }
    for (const group of options.groups ?? []) assertGroup(group, `${where}: ${description}`);
    const policyBacked = this.isPolicyBacked(level);
    // RBAC objects (and the level's group) go where EKS reads groups for this level:
    // aws-auth always, access entries unless an access policy stands for the level
    const asRbac = !policyBacked || this.usesConfigMap;
    if (asRbac && isNamespacePattern(level.namespaceName)) {
      const why = policyBacked ? 'the cluster also reads aws-auth, which has no namespace patterns' : 'the level is written as RBAC (a RoleBinding needs one namespace)';
      throw new Error(`[${ERRORS.namespacePatternAsRbac}] ${where}: ${description}: the namespace pattern ${show(level.namespaceName)} works only as an EKS access-policy scope, but ${why}. Grant each namespace by name, or use an aws-eks-v2 cluster (or the API authentication mode) with builtInLevelBackend ACCESS_POLICY.`);
    }

    if (isNamespacePattern(level.namespaceName)) {
      const covered = BUILT_IN_NAMESPACES.filter(ns => ns.startsWith(level.namespaceName!.slice(0, -1)));
      if (covered.length > 0) {
        Annotations.of(this).addWarningV2(WARNINGS.namespacePatternCoversSystemNamespaces,
          `${description}: the pattern ${show(level.namespaceName)} also covers ${covered.join(', ')}, which Kubernetes and EKS use themselves. Use a longer prefix if that is not intended.`);
      }
    }
    if (policyBacked && level.name === 'namespace-admin' && !this.warnedAdminPolicy) {
      this.warnedAdminPolicy = true;
      Annotations.of(this).addWarningV2(WARNINGS.adminPolicyCannotDelegate,
        `${description} is written as AmazonEKSAdminPolicy, with which the principal cannot create or change Roles and RoleBindings: Kubernetes lets a user write them only with their permissions held through RBAC or with the escalate and bind verbs, and access policies give neither (aws/containers-roadmap#2682). If namespace admins grant access to others, use builtInLevelBackend RBAC.`);
    }
    // console access: RBAC (always through the reconciler) for the level's scope; cluster
    // admins can read everything already
    if (options.consoleAccess && level.name === 'existing-groups') {
      // its scope is whatever the outside bindings give: console RBAC derived here would read more
      throw new Error(`[${ERRORS.consoleAccessForExistingGroups}] ${where}: ${description}: consoleAccess cannot be derived from ${level.toString()}, whose groups are bound outside the app (console access for the whole cluster would read more than they may). Bind the console's RBAC to those groups where they are bound, or grant a level with consoleAccess.`);
    }
    const console = options.consoleAccess && !level.isClusterAdmin ? consoleAccess(level.namespaceName) : undefined;
    if (console && isNamespacePattern(level.namespaceName)) {
      throw new Error(`[${ERRORS.namespacePatternAsRbac}] ${where}: ${description}: consoleAccess is written as RBAC (a RoleBinding in the level's namespace), which a namespace pattern ${show(level.namespaceName)} cannot have. Grant console access per namespace.`);
    }
    const bound = principal._bind(this);
    this.warnOnPartition(bound, description);
    const groups = Array.from(new Set([...(asRbac ? level.groups : []), ...(console?.groups ?? []), ...(options.groups ?? [])]));
    if (this.model.add(bound, description, groups, options.username, where)) {
      if (this.accessEntries) this.accessEntries.add(bound.stableKey, bound.key, bound.entryIdentity);
      this.bound.push(bound);
    }
    this.levels.set(bound.key, [...(this.levels.get(bound.key) ?? []), level]);

    const objects = [...(asRbac ? level._objects() : []), ...(console?.objects ?? [])];
    let added = false;
    for (const obj of objects) {
      const key = objectKey(obj);
      if (!this.objects.has(key)) {
        this.objects.set(key, obj);
        added = true;
      }
    }
    const createNamespace = asRbac ? (this.options.createNamespaces ?? true) : (this.options.createNamespaces ?? false);
    // a RoleBinding needs its namespace: console access in a namespace creates it (as RBAC levels do)
    const ns = level.namespaceName;
    if (ns !== undefined && (createNamespace || console) && !isNamespacePattern(ns)) this.ensureNamespace(ns);
    if (added) this.syncChunks();

    const policy = policyBacked || (level.isClusterAdmin && this.usesAccessEntries) ? accessPolicyOf(level) : undefined;
    const clusterRoles = this.target.v1 instanceof eks.Cluster ? [this.target.v1.adminRole, this.target.v1.role]
      : this.target.v2 instanceof eksv2.Cluster ? [this.target.v2.role] : [];
    const statements = options.consoleAccess && !this.consoleIam.has(bound.key)
      ? consoleStatements(this.target.clusterArn, this.clusterName, Stack.of(this)) : [];
    if (grantDescribeCluster(this, bound, this.target.clusterArn, options.describeCluster, `${where}: ${description}`, clusterRoles,
      this.describing.has(bound.key), statements)) {
      this.describing.add(bound.key);
      if (statements.length > 0) this.consoleIam.add(bound.key);
    }
    const grant = AccessGrant._create({
      principal,
      level,
      mappedArn: bound.mappedArn,
      groups,
      kubernetesObjects: objects,
      accessPolicy: policy?.policy,
      describeCluster: this.describing.has(bound.key),
      username: () => this.model.entry(bound.key)!.username,
      description,
    });
    this.grantList.push(grant);
    return grant;
  }

  /** All grants made so far, in the order they were made. */
  public get grants(): AccessGrant[] {
    return [...this.grantList];
  }

  private warnOnPartition(bound: BoundPrincipal, description: string) {
    const clusterPartition = stackPartition(Stack.of(this));
    if (bound.partition !== undefined && !Token.isUnresolved(clusterPartition) && bound.partition !== clusterPartition) {
      Annotations.of(this).addWarningV2(WARNINGS.crossPartitionPrincipal,
        `${description}: ${bound.mappedArn} is in partition ${show(bound.partition)} but the cluster is in ${show(clusterPartition)}; STS in the cluster's partition can never authenticate it, so this grant gives no access. Grant a principal of partition ${show(clusterPartition)}.`);
    }
  }

  private ensureNamespace(namespace: string) {
    if (BUILT_IN_NAMESPACES.includes(namespace)) return;
    this.namespaces.add(namespace);
    if (!this.namespacesResource) {
      this.namespacesResource = this.reconciler.resource(this, 'Namespaces', NAMESPACES_RESOURCE_TYPE, {
        Namespaces: Lazy.list({ produce: () => Array.from(this.namespaces).sort() }),
      });
      this.accessEntries?.dependOn(this.namespacesResource);
      for (const chunk of this.chunks.values()) chunk.construct.node.addDependency(this.namespacesResource);
    }
  }

  private syncChunks() {
    const assignment = assignChunks(Array.from(this.objects.values()), RBAC_CHUNK_TARGET_BYTES);
    const ids = Array.from(assignment.keys()); // sorted
    // Keep the longest prefix of existing chunks that still has the same id and position;
    // recreate the rest in sorted order (constructs render in creation order; the ids, so
    // the logical ids, stay). Chunk ids are hash prefixes: an object changes chunks only
    // when its chunk splits or merges, i.e. it moves from a chunk that goes away to one
    // that is new. CloudFormation creates new resources before it deletes removed ones, so
    // the new owner has claimed the object before the old one lets go of it.
    const existing = Array.from(this.chunks.keys());
    let keep = 0;
    while (keep < existing.length && existing[keep] === ids[keep]) keep++;
    for (const id of existing.slice(keep)) {
      this.rbacScope.node.tryRemoveChild(this.chunks.get(id)!.construct.node.id);
      this.chunks.delete(id);
    }
    for (const id of ids) {
      let chunk = this.chunks.get(id);
      if (!chunk) {
        const objects: KubeObject[] = [];
        const construct = this.reconciler.resource(this.rbacScope, `Chunk${id}`, RBAC_RESOURCE_TYPE, {
          Objects: Lazy.any({ produce: () => objects }, { omitEmptyArray: false }),
        });
        if (this.namespacesResource) construct.node.addDependency(this.namespacesResource);
        chunk = { construct, objects };
        this.chunks.set(id, chunk);
      }
      chunk.objects.splice(0, chunk.objects.length, ...assignment.get(id)!);
    }
  }

  private validate(): string[] {
    return [
      ...this.validateOneWriter(),
      ...validateAccess({
        scope: this,
        target: this.target,
        clusterName: this.clusterName,
        bound: this.bound,
        levels: this.levels,
        model: this.model,
        absorbedMappings: this.writer ? () => this.writer!.absorbedMappings() : undefined,
        accessEntryCount: this.accessEntries?.count,
        customResources: [this.namespacesResource, this.writer?.resource, ...Array.from(this.chunks.values()).map(ch => ch.construct)]
          .filter((r): r is CustomResource => r !== undefined)
          .map(r => r.node.defaultChild as CfnResource),
      }),
    ];
  }

  /**
   * One ClusterAccess per cluster and stack: two would be two reconcilers writing one
   * aws-auth (each owning only its own entries, so both deploy, but each also takes over
   * aws-eks's node mappings and neither sees the other's grants when merging and
   * checking). `ClusterAccess.of` keeps one per cluster construct; two constructs of one
   * cluster (two imports, or an import of a cluster the stack creates) are found here, as
   * far as the template tells (see `clusterKeys`). The later one reports it.
   */
  private validateOneWriter(): string[] {
    const stack = Stack.of(this);
    const earlier = stack.node.findAll().filter((c): c is ClusterAccess => c instanceof ClusterAccess && Stack.of(c) === stack);
    const mine = this.target.construct as ClusterConstruct;
    const first = earlier.slice(0, earlier.indexOf(this)).find(other => sameCluster(other.target.construct as ClusterConstruct, mine));
    if (!first) return [];
    const name = stack.resolve(this.clusterName);
    return [`[${ERRORS.twoWritersForOneCluster}] ${this.node.path} and ${first.node.path} both write the access of the cluster ${show(name)} (the constructs ${mine.node.path} and ${first.target.construct.node.path} name the same cluster), so two writers would write its access (aws-auth, access entries, RBAC) and neither would see the other's grants. Use one ClusterAccess per cluster: import the cluster once (or use the construct that creates it) and pass that one construct to ClusterAccess.of() or ofV2().`];
  }

}
