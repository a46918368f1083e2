import { Annotations, CfnResource, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { AccessEntryWriter } from './access-entry/writer';
import { AccessLevel } from './access-level';
import { EksAwsAuthWriter } from './aws-auth/eks-aws-auth';
import { AwsAuthModel } from './aws-auth/model';
import { AccessGrant, GrantOptions } from './grant';
import { AccessPrincipal, BoundPrincipal } from './principal';
import { BUILT_IN_NAMESPACES, MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES, MAX_STACK_RESOURCES, RBAC_CHUNK_TARGET_BYTES, WARNINGS } from './private/constants';
import { show } from './private/errors';
import { stackPartition } from './private/partition';
import { SortedConstructs } from './private/sorted-constructs';
import { assertAccessEntryUsername, assertGroup, assertUsername } from './private/validate';
import { assignChunks } from './rbac/chunking';
import { KubeObject, namespaceObject, objectKey } from './rbac/objects';

const ID = 'CdkEksAccess';

interface Chunk {
  readonly construct: eks.KubernetesManifest;
  /** The array handed to KubernetesManifest; it renders lazily, so we refill it in place. */
  readonly manifest: KubeObject[];
  readonly namespaces: string;
}

/**
 * Access to one aws-eks `Cluster`: collects grants and renders them into the cluster's
 * aws-auth ConfigMap and/or EKS access entries (one entry per principal, as the
 * authentication mode requires) and into generated RBAC objects.
 *
 * Get it with `ClusterAccess.of(cluster)`; there is one per cluster.
 *
 * What it adds to the template: one aws-auth entry per principal (through the cluster's
 * own `AwsAuth`, so node and Fargate entries stay) in CONFIG_MAP and API_AND_CONFIG_MAP
 * modes, one `AWS::EKS::AccessEntry` per principal in API and API_AND_CONFIG_MAP modes,
 * one `Custom::AWSCDK-EKS-KubernetesResource`
 * per namespace the grants use (retained: never deleted), and as few RBAC custom resources
 * as fit the size limit (usually one; retained as well).
 */
export class ClusterAccess extends Construct {
  /**
   * The access of `cluster`, created on first use. Works for any aws-cdk-lib
   * `eks.Cluster` (not only `EksCluster`).
   */
  public static of(cluster: eks.Cluster): ClusterAccess {
    if (!(cluster instanceof eks.Cluster)) {
      const path = (cluster as Construct | undefined)?.node?.path ?? String(cluster);
      if ((cluster as unknown) instanceof eksv2.Cluster) {
        throw new Error(`ClusterAccess.of(${path}): clusters of aws-cdk-lib/aws-eks-v2 are not supported yet. Their RBAC objects would go through aws-eks-v2's own kubectl provider and KubernetesManifest, which this library does not drive yet; access entries alone would leave every level but cluster admin unbound. Use aws-cdk-lib/aws-eks's eks.Cluster (or EksCluster) for now.`);
      }
      throw new Error(`ClusterAccess.of(${path}): only clusters defined with aws-cdk-lib's eks.Cluster (or EksCluster) are supported; imported clusters (eks.Cluster.fromClusterAttributes) are not yet, because their aws-auth ConfigMap cannot be merged safely. Define the cluster in this app, or grant access where it is defined.`);
    }
    const existing = cluster.node.tryFindChild(ID);
    return existing instanceof ClusterAccess ? existing : new ClusterAccess(cluster);
  }

  /** The cluster this access belongs to. */
  public readonly cluster: eks.Cluster;

  private readonly model = new AwsAuthModel();
  private readonly writer: EksAwsAuthWriter;
  private readonly grantList: AccessGrant[] = [];
  private readonly bound: BoundPrincipal[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly chunks = new Map<string, Chunk>();
  private readonly namespaceResources: SortedConstructs<eks.KubernetesManifest>;
  private readonly rbacScope: Construct;
  private readonly accessEntries?: AccessEntryWriter;
  private rebuildChunks = false;

  private constructor(cluster: eks.Cluster) {
    super(cluster, ID);
    this.cluster = cluster;
    this.writer = new EksAwsAuthWriter(this, cluster, this.model);
    this.namespaceResources = new SortedConstructs(new Construct(this, 'Namespaces'), (scope, namespace) => {
      // kubectl apply (overwrite) so an existing namespace does not fail the deploy; no
      // prune; retained so that neither a stack delete nor a removed grant deletes it.
      const resource = new eks.KubernetesManifest(scope, namespace, {
        cluster: this.cluster,
        manifest: [namespaceObject(namespace)],
        overwrite: true,
        prune: false,
      });
      (resource.node.defaultChild as CfnResource).applyRemovalPolicy(RemovalPolicy.RETAIN);
      return resource;
    });
    this.rbacScope = new Construct(this, 'Rbac');
    if (this.usesAccessEntries) this.accessEntries = new AccessEntryWriter(this, cluster, this.model);
    this.node.addValidation({ validate: () => this.validate() });
  }

  /** Whether the cluster's authentication mode reads aws-auth (CONFIG_MAP, API_AND_CONFIG_MAP). */
  private get usesConfigMap(): boolean {
    return this.cluster.authenticationMode !== eks.AuthenticationMode.API;
  }

  /** Whether the cluster's authentication mode reads access entries (API, API_AND_CONFIG_MAP). */
  private get usesAccessEntries(): boolean {
    const mode = this.cluster.authenticationMode;
    return mode === eks.AuthenticationMode.API || mode === eks.AuthenticationMode.API_AND_CONFIG_MAP;
  }

  /** Grants an IAM role (path stripped for aws-auth). Returns what the grant produced. */
  public grantRole(role: iam.IRole, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    return this.grant(AccessPrincipal.fromRole(role), level, options);
  }

  /** Grants an IAM user (ARN with its path). Returns what the grant produced. */
  public grantUser(user: iam.IUser, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    return this.grant(AccessPrincipal.fromUser(user), level, options);
  }

  /**
   * Grants the IAM role of an IAM Identity Center permission set, by the role ARN as IAM
   * shows it (with `/aws-reserved/sso.amazonaws.com/...` path, stripped for aws-auth).
   */
  public grantSsoPermissionSet(roleArn: string, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    return this.grant(AccessPrincipal.fromSsoPermissionSet(roleArn), level, options);
  }

  /**
   * Grants any principal a level of access: maps it (aws-auth entry and/or access entry)
   * to the level's group (plus `options.groups`) and generates the RBAC objects that bind
   * the group; cluster admin is `system:masters` or `AmazonEKSClusterAdminPolicy`.
   */
  public grant(principal: AccessPrincipal, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    const number = this.grantList.length + 1;
    const description = `grant #${number} (${principal.description} as ${level.toString()})`;
    const where = this.node.path;
    if (options.username !== undefined) {
      assertUsername(options.username, `${where}: ${description}`);
      if (this.usesAccessEntries) assertAccessEntryUsername(options.username, `${where}: ${description}`);
    }
    for (const group of options.groups ?? []) assertGroup(group, `${where}: ${description}`);

    const bound = principal._bind(this);
    this.warnOnPartition(bound, description);
    const groups = Array.from(new Set([level.group, ...(options.groups ?? [])]));
    if (this.model.add(bound, description, groups, options.username, where)) {
      if (this.usesConfigMap) this.writer.addSlot(bound.type);
      if (this.accessEntries) this.accessEntries.add(bound.stableKey, bound.key);
      this.bound.push(bound);
    }

    const objects = level._objects();
    let added = false;
    for (const obj of objects) {
      const key = objectKey(obj);
      if (!this.objects.has(key)) {
        this.objects.set(key, obj);
        added = true;
      }
    }
    if (level.namespace !== undefined) this.ensureNamespace(level.namespace);
    if (added || this.rebuildChunks) this.syncChunks();

    const grant = AccessGrant._create({
      principal,
      level,
      mappedArn: bound.mappedArn,
      groups,
      kubernetesObjects: objects,
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
    // chunks depend on namespace constructs: refresh them when some were recreated
    if (this.namespaceResources.add(namespace)) this.rebuildChunks = true;
  }

  private syncChunks() {
    const assignment = assignChunks(Array.from(this.objects.values()), RBAC_CHUNK_TARGET_BYTES);
    const ids = Array.from(assignment.keys()); // sorted
    const namespacesOf = (objects: KubeObject[]) => Array.from(new Set(objects
      .map(o => o.metadata.namespace as string | undefined)
      .filter((ns): ns is string => ns !== undefined && !BUILT_IN_NAMESPACES.includes(ns)))).sort().join(',');
    // Keep the longest prefix of existing chunks that still has the same id, position and
    // namespaces; recreate the rest in sorted order (constructs render in creation order).
    const existing = Array.from(this.chunks.keys());
    let keep = 0;
    while (!this.rebuildChunks && keep < existing.length && existing[keep] === ids[keep]
      && this.chunks.get(existing[keep])!.namespaces === namespacesOf(assignment.get(ids[keep])!)) {
      keep++;
    }
    this.rebuildChunks = false;
    for (const id of existing.slice(keep)) {
      this.rbacScope.node.tryRemoveChild(this.chunks.get(id)!.construct.node.id);
      this.chunks.delete(id);
    }
    for (const id of ids) {
      const objects = assignment.get(id)!;
      let chunk = this.chunks.get(id);
      if (!chunk) {
        const manifest: KubeObject[] = [];
        const construct = new eks.KubernetesManifest(this.rbacScope, `Chunk${id}`, {
          cluster: this.cluster,
          manifest,
          overwrite: true,
          prune: false,
        });
        // Retained: an object that moves to another chunk must not be deleted by the old one's removal.
        (construct.node.defaultChild as CfnResource).applyRemovalPolicy(RemovalPolicy.RETAIN);
        const namespaces = namespacesOf(objects);
        for (const ns of namespaces ? namespaces.split(',') : []) construct.node.addDependency(this.namespaceResources.get(ns)!);
        chunk = { construct, manifest, namespaces };
        this.chunks.set(id, chunk);
      }
      // KubernetesManifest renders its array lazily: refill it in place.
      chunk.manifest.splice(0, chunk.manifest.length, ...objects);
    }
  }

  private validate(): string[] {
    const errors: string[] = [];
    if (this.bound.length === 0) return errors; // nothing granted: nothing of ours to check
    const stack = Stack.of(this);
    const resolvedKey = (arn: string) => JSON.stringify(stack.resolve(arn)).toLowerCase();

    // One entry per principal: two expressions that resolve to the same ARN would be two.
    const ours = new Map<string, BoundPrincipal>();
    for (const b of this.bound) {
      const key = resolvedKey(b.mappedArn);
      const other = ours.get(key);
      if (other) {
        errors.push(`${b.mappedArn} is granted through two different expressions (${show(stack.resolve(other.mappedArn))}); they would become two entries for one role or user (aws-iam-authenticator keeps only one; EKS refuses a second access entry). Grant it through one AccessPrincipal.`);
      }
      ours.set(key, b);
    }
    errors.push(...this.validateSsoByName());
    if (this.usesConfigMap) errors.push(...this.validateAwsAuth(resolvedKey));
    if (this.usesAccessEntries) errors.push(...this.validateAccessEntries(resolvedKey));

    // Every custom resource we add must stay under the size limit.
    const resources: CfnResource[] = [...this.namespaceResources.values(), ...Array.from(this.chunks.values()).map(c => c.construct)]
      .map(r => r.node.defaultChild as CfnResource);
    const awsAuthManifest = this.usesConfigMap ? this.cluster.awsAuth.node.tryFindChild('manifest')?.node.defaultChild : undefined;
    if (awsAuthManifest && CfnResource.isCfnResource(awsAuthManifest)) resources.push(awsAuthManifest);
    for (const resource of resources) {
      const bytes = Buffer.byteLength(JSON.stringify(stack.resolve((resource as any)._toCloudFormation())), 'utf8');
      if (bytes > MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES) {
        errors.push(`the custom resource ${resource.node.path} would be ${bytes} bytes in the template, over the ${MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES}-byte limit that keeps its UPDATE event under Lambda's 262,144-byte limit. Reduce the number of principals of this cluster (e.g. grant teams through one SSO permission set or one role each); grants of one cluster cannot be split across stacks yet.`);
      }
    }
    return errors;
  }

  /**
   * A permission set granted by name (looked up at deploy time) and by role ARN would be
   * two entries for one role; only the account tells whether they are the same role.
   */
  private validateSsoByName(): string[] {
    const errors: string[] = [];
    const stackAccount = Stack.of(this).account;
    for (const byName of this.bound.filter(b => b.byName)) {
      for (const literal of this.bound.filter(b => !b.byName && b.permissionSetName?.toLowerCase() === byName.permissionSetName!.toLowerCase())) {
        const account = Token.isUnresolved(literal.mappedArn) ? undefined : literal.mappedArn.split(':')[4];
        const message = `permission set ${show(byName.permissionSetName)} is granted both by name and by role ARN (${literal.mappedArn})`;
        if (!Token.isUnresolved(stackAccount) && account !== undefined && account !== stackAccount) continue; // another account's role
        if (Token.isUnresolved(stackAccount)) {
          Annotations.of(this).addWarningV2(WARNINGS.ssoByNameAndArn, `${message}; if the stack deploys to account ${account}, they are the same role and aws-auth would get two entries for it. Grant it one way (by name survives re-provisioning).`);
        } else {
          errors.push(`${message} in account ${account}: that is the same role, and it would get two entries. Grant it one way: by name (survives re-provisioning) or by ARN.`);
        }
      }
    }
    return errors;
  }

  private validateAwsAuth(resolvedKey: (arn: string) => string): string[] {
    const errors: string[] = [];
    for (const foreign of this.writer.foreignMappings()) {
      const clash = this.bound.find(b => (b.source !== undefined && b.source === foreign.identity)
        || resolvedKey(b.mappedArn) === resolvedKey(foreign.arn));
      if (clash) {
        errors.push(`${foreign.identity.node.path} (${clash.mappedArn}) is already mapped in aws-auth by aws-eks (a node group, Fargate profile, mastersRole or awsAuth.addRoleMapping call); granting it too would create a second entry for the same ARN, and aws-iam-authenticator keeps only one of them, dropping groups. Remove the grant, or map it only through cdk-eks-access.`);
      }
    }
    return errors;
  }

  private validateAccessEntries(resolvedKey: (arn: string) => string): string[] {
    const errors: string[] = [];
    const stack = Stack.of(this);
    for (const entry of this.model.all()) {
      if (entry.fullArn === undefined) {
        errors.push(`${entry.arn} has no known full ARN, and access entries (AuthenticationMode ${this.cluster.authenticationMode}) need the principal's real ARN with its IAM path, which cannot be rebuilt. For an IAM Identity Center role, give the role ARN as IAM shows it (…:role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_<set>_<hex>); for AccessPrincipal.fromRoleName(), use AccessPrincipal.fromRoleArn() with the full ARN.`);
      }
      if (entry.conflictingFullArns.length > 0) {
        errors.push(`${entry.arn} is granted with different IAM paths (${entry.conflictingFullArns.join(', ')}); a role or user has one path, and its access entry needs the right one. Use the ARN as IAM shows it in every grant.`);
      }
    }
    // Entries EKS or aws-eks create themselves: node roles (EKS adds access entries for
    // managed node groups and Fargate profiles) and aws-eks's own cluster.grantAccess().
    const taken: Array<{ what: string; role?: IConstruct; arn: string }> = [];
    for (const c of stack.node.findAll()) {
      if (c instanceof eks.Nodegroup) taken.push({ what: `node group ${c.node.path}`, role: c.role, arn: c.role.roleArn });
      if (c instanceof eks.FargateProfile) taken.push({ what: `Fargate profile ${c.node.path}`, role: c.podExecutionRole, arn: c.podExecutionRole.roleArn });
    }
    const awsEksEntries = (this.cluster as unknown as { accessEntries?: Map<string, unknown> }).accessEntries;
    for (const arn of awsEksEntries instanceof Map ? awsEksEntries.keys() : []) taken.push({ what: 'cluster.grantAccess()', arn });
    for (const t of taken) {
      const clash = this.bound.find(b => (t.role !== undefined && b.source === t.role)
        || (b.fullArn !== undefined && resolvedKey(b.fullArn) === resolvedKey(t.arn)));
      if (clash) {
        errors.push(`${clash.mappedArn} already has an access entry from ${t.what}; EKS allows one access entry per principal, so the deploy would fail. Remove the grant (or the other entry).`);
      }
    }
    // CloudFormation allows 500 resources per stack; each principal is one access entry.
    const count = stack.node.findAll().filter(c => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length;
    if (count > MAX_STACK_RESOURCES) {
      errors.push(`the stack ${stack.stackName} would have ${count} resources, over CloudFormation's ${MAX_STACK_RESOURCES}; ${this.accessEntries!.count} of them are access entries (one per principal). Grant groups of people through shared roles or SSO permission sets, or move other resources out of this stack; grants of one cluster cannot be split across stacks yet.`);
    }
    return errors;
  }
}
