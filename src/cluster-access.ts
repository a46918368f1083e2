import { Annotations, CfnResource, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AccessLevel } from './access-level';
import { EksAwsAuthWriter } from './aws-auth/eks-aws-auth';
import { AwsAuthModel } from './aws-auth/model';
import { AccessGrant, GrantOptions } from './grant';
import { AccessPrincipal, BoundPrincipal } from './principal';
import { BUILT_IN_NAMESPACES, MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES, RBAC_CHUNK_TARGET_BYTES, WARNINGS } from './private/constants';
import { constructError, show } from './private/errors';
import { stackPartition } from './private/partition';
import { assertGroup, assertUsername } from './private/validate';
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
 * aws-auth ConfigMap (one entry per principal) and into generated RBAC objects.
 *
 * Get it with `ClusterAccess.of(cluster)`; there is one per cluster.
 *
 * What it adds to the template: one aws-auth entry per principal (through the cluster's
 * own `AwsAuth`, so node and Fargate entries stay), one `Custom::AWSCDK-EKS-KubernetesResource`
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
  private readonly namespaceResources = new Map<string, eks.KubernetesManifest>();
  private readonly chunks = new Map<string, Chunk>();
  private readonly namespaceScope: Construct;
  private readonly rbacScope: Construct;
  private rebuildChunks = false;

  private constructor(cluster: eks.Cluster) {
    super(cluster, ID);
    this.cluster = cluster;
    this.writer = new EksAwsAuthWriter(this, cluster, this.model);
    this.namespaceScope = new Construct(this, 'Namespaces');
    this.rbacScope = new Construct(this, 'Rbac');
    this.node.addValidation({ validate: () => this.validate() });
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
   * Grants any principal a level of access: maps it in aws-auth to the level's group
   * (plus `options.groups`) and generates the RBAC objects that bind the group.
   */
  public grant(principal: AccessPrincipal, level: AccessLevel, options: GrantOptions = {}): AccessGrant {
    const number = this.grantList.length + 1;
    const description = `grant #${number} (${principal.description} as ${level.toString()})`;
    const where = this.node.path;
    if (this.cluster.authenticationMode === eks.AuthenticationMode.API) {
      throw constructError(this, `${description}: the cluster uses AuthenticationMode.API, where aws-auth is ignored; access entries are not supported by cdk-eks-access yet. Use AuthenticationMode.API_AND_CONFIG_MAP or CONFIG_MAP.`);
    }
    if (options.username !== undefined) assertUsername(options.username, `${where}: ${description}`);
    for (const group of options.groups ?? []) assertGroup(group, `${where}: ${description}`);

    const bound = principal._bind(this);
    this.warnOnPartition(bound, description);
    const groups = Array.from(new Set([level.group, ...(options.groups ?? [])]));
    if (this.model.add(bound, description, groups, options.username, where)) {
      this.writer.addSlot(bound.type);
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
    if (BUILT_IN_NAMESPACES.includes(namespace) || this.namespaceResources.has(namespace)) return;
    const wanted = [...this.namespaceResources.keys(), namespace].sort();
    // Constructs render in creation order; keep them sorted so the template does not depend
    // on the order of grants: recreate those that sort after the new one.
    const keep = wanted.slice(0, wanted.indexOf(namespace));
    for (const ns of [...this.namespaceResources.keys()]) {
      if (!keep.includes(ns)) {
        this.namespaceScope.node.tryRemoveChild(this.namespaceResources.get(ns)!.node.id);
        this.namespaceResources.delete(ns);
      }
    }
    for (const ns of wanted.slice(keep.length)) {
      // kubectl apply (overwrite) so an existing namespace does not fail the deploy; no
      // prune; retained so that neither a stack delete nor a removed grant deletes it.
      const resource = new eks.KubernetesManifest(this.namespaceScope, ns, {
        cluster: this.cluster,
        manifest: [namespaceObject(ns)],
        overwrite: true,
        prune: false,
      });
      (resource.node.defaultChild as CfnResource).applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.namespaceResources.set(ns, resource);
    }
    // chunks depend on namespace constructs, some of which were just replaced
    this.rebuildChunks = true;
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
    if (this.bound.length === 0) return errors; // nothing granted: no aws-auth of ours to check
    const stack = Stack.of(this);
    const resolvedKey = (arn: string) => JSON.stringify(stack.resolve(arn)).toLowerCase();

    // One aws-auth entry per principal, also against entries aws-eks adds itself.
    const ours = new Map<string, BoundPrincipal>();
    for (const b of this.bound) {
      const key = resolvedKey(b.mappedArn);
      const other = ours.get(key);
      if (other) {
        errors.push(`${b.mappedArn} is granted through two different expressions (${show(stack.resolve(other.mappedArn))}); they would become two aws-auth entries for one role or user, and aws-iam-authenticator keeps only one. Grant it through one AccessPrincipal.`);
      }
      ours.set(key, b);
    }
    for (const foreign of this.writer.foreignMappings()) {
      const clash = this.bound.find(b => (b.source !== undefined && b.source === foreign.identity)
        || resolvedKey(b.mappedArn) === resolvedKey(foreign.arn));
      if (clash) {
        errors.push(`${foreign.identity.node.path} (${clash.mappedArn}) is already mapped in aws-auth by aws-eks (a node group, Fargate profile, mastersRole or awsAuth.addRoleMapping call); granting it too would create a second entry for the same ARN, and aws-iam-authenticator keeps only one of them, dropping groups. Remove the grant, or map it only through cdk-eks-access.`);
      }
    }

    // Every custom resource we add must stay under the size limit.
    const resources: CfnResource[] = [...this.namespaceResources.values(), ...Array.from(this.chunks.values()).map(c => c.construct)]
      .map(r => r.node.defaultChild as CfnResource);
    const awsAuthManifest = this.cluster.awsAuth.node.tryFindChild('manifest')?.node.defaultChild;
    if (awsAuthManifest && CfnResource.isCfnResource(awsAuthManifest)) resources.push(awsAuthManifest);
    for (const resource of resources) {
      const bytes = Buffer.byteLength(JSON.stringify(stack.resolve((resource as any)._toCloudFormation())), 'utf8');
      if (bytes > MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES) {
        errors.push(`the custom resource ${resource.node.path} would be ${bytes} bytes in the template, over the ${MAX_CUSTOM_RESOURCE_PROPERTIES_BYTES}-byte limit that keeps its UPDATE event under Lambda's 262,144-byte limit. Reduce the number of principals on this cluster in this stack (e.g. grant groups of people through one SSO permission set or one role), or split grants across stacks.`);
      }
    }
    return errors;
  }
}
