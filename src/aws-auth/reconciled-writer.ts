import { Aspects, CfnResource, CustomResource, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, Dependable, IConstruct } from 'constructs';
import { AwsAuthModel } from './model';
import { AWS_AUTH_RESOURCE_TYPE, AwsAuthEntry } from '../handlers/access-reconciler/protocol';
import { AccessPrincipal, AccessPrincipalType } from '../principal';
import { ERRORS } from '../private/constants';
import { constructError, show } from '../private/errors';
import { ReconcilerProvider } from '../private/reconciler-provider';
import { HANDOVER_CONFIG_MAP } from '../rbac/objects';

/** The username EKS gives node roles in aws-auth. */
const NODE_USERNAME = 'system:node:{{EC2PrivateDNSName}}';
/** The group EKS adds for a Windows node group's role (kube-proxy on Windows nodes). */
const WINDOWS_NODE_GROUP = 'eks:kube-proxy-windows';
/**
 * The groups EKS itself writes for node roles: `system:bootstrappers` and `system:nodes`,
 * and `eks:kube-proxy-windows` for Windows nodes (EKS user guide, "Deploy Windows nodes on
 * EKS clusters", https://docs.aws.amazon.com/eks/latest/userguide/windows-support.html;
 * EKS API CreateNodegroup `amiType`: "If your launch template uses a Windows custom AMI,
 * then add eks:kube-proxy-windows to your Windows nodes rolearn in the aws-auth ConfigMap").
 */
const NODE_GROUPS: readonly string[] = ['system:bootstrappers', 'system:nodes', WINDOWS_NODE_GROUP];
/** Managed node group AMI types that run Windows (EKS writes their role with `eks:kube-proxy-windows`). */
const WINDOWS_AMI_TYPES: readonly string[] = [
  eks.NodegroupAmiType.WINDOWS_CORE_2019_X86_64,
  eks.NodegroupAmiType.WINDOWS_FULL_2019_X86_64,
  eks.NodegroupAmiType.WINDOWS_CORE_2022_X86_64,
  eks.NodegroupAmiType.WINDOWS_FULL_2022_X86_64,
];

/** Whether a mapping is a node role's, as EKS writes those: the node username, node groups only. */
function isNodeMapping(mapping: { type: AccessPrincipalType; username: string; groups: string[] }): boolean {
  return mapping.type === AccessPrincipalType.ROLE && mapping.username === NODE_USERNAME && mapping.groups.every(g => NODE_GROUPS.includes(g));
}

/** A mapping aws-eks (a node group, Fargate profile, ASG capacity, mastersRole) or user code added through `cluster.awsAuth`. */
export interface AbsorbedMapping {
  readonly type: AccessPrincipalType;
  readonly identity: IConstruct;
  /** The ARN written to aws-auth (path-less for roles). */
  readonly arn: string;
  readonly username: string;
  readonly groups: string[];
  readonly description: string;
}

/**
 * Writes the model's entries, plus the mappings absorbed from aws-eks, into aws-auth
 * through one reconciler resource (`Custom::CdkEksAccessAwsAuth`) that merges them into
 * the ConfigMap: the entries appear inline, in the aws-auth schema, in the template.
 */
export class ReconciledAwsAuthWriter {
  /** The reconciler resource that writes the entries. */
  public readonly resource: CustomResource;
  private readonly absorbed: AbsorbedMapping[] = [];
  /** Roles of Windows managed node groups (found when the stack is synthesized). */
  private readonly windowsNodeRoles = new Set<IConstruct>();

  constructor(private readonly scope: Construct, provider: ReconcilerProvider, private readonly model: AwsAuthModel) {
    const section = (type: AccessPrincipalType) => Lazy.any({ produce: () => this.render(type) }, { omitEmptyArray: false });
    this.resource = provider.resource(scope, 'AwsAuth', AWS_AUTH_RESOURCE_TYPE, {
      MapRoles: section(AccessPrincipalType.ROLE),
      MapUsers: section(AccessPrincipalType.USER),
    });
  }

  /** What the writer writes for one type: absorbed mappings first (in the order added), then the grants (sorted). */
  private render(type: AccessPrincipalType): AwsAuthEntry[] {
    const key = type === AccessPrincipalType.ROLE ? 'rolearn' : 'userarn';
    return [
      ...this.absorbed.filter(m => m.type === type).map(m => ({ [key]: m.arn, username: m.username, groups: this.groupsOf(m) })),
      ...this.model.list(type).map(e => ({ [key]: e.arn, username: e.username, groups: e.groups })),
    ];
  }

  /**
   * The groups an absorbed mapping is written with: aws-eks maps every managed node
   * group's role with `system:bootstrappers` and `system:nodes`, but EKS writes a Windows
   * node group's role with `eks:kube-proxy-windows` as well. Writing less would drop it.
   */
  private groupsOf(mapping: AbsorbedMapping): string[] {
    if (isNodeMapping(mapping) && this.windowsNodeRoles.has(mapping.identity) && !mapping.groups.includes(WINDOWS_NODE_GROUP)) {
      return [...mapping.groups, WINDOWS_NODE_GROUP];
    }
    return mapping.groups;
  }

  /** The mappings absorbed from aws-eks. */
  public absorbedMappings(): AbsorbedMapping[] {
    return [...this.absorbed];
  }

  /**
   * Makes `cluster.awsAuth` write through this writer: mappings that aws-eks (or user
   * code) added are taken over, and aws-eks's own aws-auth manifest (which would
   * overwrite the whole ConfigMap, and delete it with the stack) is neutralized.
   *
   * The manifest is kept under its construct path (so under its logical id) but writes
   * a placeholder ConfigMap instead of aws-auth, without prune, and is retained: a stack
   * deployed before (by an earlier version of this library, or by plain aws-eks) sees an
   * update of that resource, not its removal, which would run `kubectl delete` on aws-auth.
   */
  public absorb(cluster: eks.Cluster): void {
    const internals = cluster as unknown as { _awsAuth?: eks.AwsAuth };
    const awsEks = cluster.awsAuth; // aws-eks's, created now when nothing created it yet
    const manifest = awsEks.node.tryFindChild('manifest')?.node.defaultChild;
    const changed = () => constructError(cluster, 'cdk-eks-access could not take over aws-eks\'s aws-auth writer (aws-cdk-lib internals changed); please report this with your aws-cdk-lib version.');
    if (!(manifest instanceof CfnResource)) throw changed();
    const absorber = new AbsorbingAwsAuth(this, cluster);
    const rows = (box: unknown): any[] => (Array.isArray(box) ? box : typeof (box as any)?.get === 'function' ? (box as any).get() : []);
    const p = awsEks as unknown as { roleMappings: unknown; userMappings: unknown; accounts: unknown };
    const accounts = rows(p.accounts);
    if (accounts.length > 0) throw absorber.accountError(String(accounts[0]));
    for (const m of rows(p.roleMappings)) absorber.addRoleMapping(m.role, m.mapping);
    for (const m of rows(p.userMappings)) absorber.addUserMapping(m.user, m.mapping);

    // aws-eks labelled what it applied with this prune label (when the cluster prunes):
    // the reconciler takes those entries over as this stack's own, once
    if (cluster.prune) {
      const pruneLabel = `aws.cdk.eks/prune-${awsEks.node.findChild('manifest').node.addr}`;
      (this.resource.node.defaultChild as CfnResource).addPropertyOverride('LegacyPruneLabel', pruneLabel);
    }
    manifest.addPropertyOverride('Manifest', JSON.stringify([HANDOVER_CONFIG_MAP]));
    manifest.addPropertyDeletionOverride('PruneLabel');
    manifest.applyRemovalPolicy(RemovalPolicy.RETAIN);
    internals._awsAuth = absorber as unknown as eks.AwsAuth;
    if (cluster.awsAuth !== (absorber as unknown)) throw changed();

    // EKS writes the node role of a managed node group and the pod execution role of a
    // Fargate profile into aws-auth itself, and how it writes is not ours to check: the
    // reconciler writes after them, so their writes cannot race with ours.
    Aspects.of(Stack.of(cluster)).add({
      visit: node => {
        const role = node instanceof eks.Nodegroup ? node.role : node instanceof eks.FargateProfile ? node.podExecutionRole : undefined;
        if (role && Stack.of(node) === Stack.of(this.resource) && this.absorbed.some(m => m.identity === role)) {
          this.resource.node.addDependency(node);
          // the AMI type as the node group resource has it (aws-eks derives it when not given);
          // a custom AMI in a launch template has none: map eks:kube-proxy-windows by hand then
          const amiType = node instanceof eks.Nodegroup ? (node.node.defaultChild as eks.CfnNodegroup | undefined)?.amiType : undefined;
          if (typeof amiType === 'string' && WINDOWS_AMI_TYPES.includes(amiType)) this.windowsNodeRoles.add(role);
        }
      },
    });
  }

  /**
   * Records one absorbed mapping. Identical repeats (e.g. one role in two node groups) are
   * one entry; so are node mappings of one role (the node username, groups that EKS
   * defines for nodes), whose groups are merged: a Windows node role mapped by its node
   * group and again with `eks:kube-proxy-windows` (the aws-eks workaround) is one entry.
   */
  public addAbsorbed(mapping: AbsorbedMapping): void {
    const eksGroup = mapping.groups.find(g => g.toLowerCase().startsWith('eks:') && !(isNodeMapping(mapping) && g === WINDOWS_NODE_GROUP));
    if (eksGroup !== undefined) {
      throw constructError(this.scope, `[${ERRORS.reservedEksGroup}] ${mapping.description} maps ${mapping.identity.node.path} to the group ${show(eksGroup)}; groups with the "eks:" prefix are EKS's own. The only one a mapping may name is ${show(WINDOWS_NODE_GROUP)}, for a node role (username ${show(NODE_USERNAME)}, groups from ${show(NODE_GROUPS)}). Use a group name without the "eks:" prefix.`);
    }
    const stack = Stack.of(this.scope);
    const key = (arn: string) => JSON.stringify(stack.resolve(arn)).toLowerCase();
    const index = this.absorbed.findIndex(m => m.type === mapping.type && (m.identity === mapping.identity || key(m.arn) === key(mapping.arn)));
    const same = index >= 0 ? this.absorbed[index] : undefined;
    if (same) {
      if (same.username === mapping.username && JSON.stringify([...same.groups].sort()) === JSON.stringify([...mapping.groups].sort())) return;
      if (isNodeMapping(same) && isNodeMapping(mapping)) {
        this.absorbed[index] = { ...same, groups: [...same.groups, ...mapping.groups.filter(g => !same.groups.includes(g))] };
        return;
      }
      throw constructError(this.scope, `${mapping.description} maps ${mapping.identity.node.path} in aws-auth with username ${show(mapping.username)} and groups ${show(mapping.groups)}, but ${same.description} already mapped it with ${show(same.username)} and ${show(same.groups)}; one principal has one aws-auth entry. Map it once.`);
    }
    this.absorbed.push(mapping);
  }
}

/**
 * Stands in for aws-eks's `AwsAuth` on a cluster whose access this library manages:
 * node groups, Fargate profiles, ASG capacity, `mastersRole` and user calls to
 * `cluster.awsAuth.addRoleMapping` land in the reconciled aws-auth writer.
 */
class AbsorbingAwsAuth extends Construct {
  constructor(private readonly writer: ReconciledAwsAuthWriter, private readonly cluster: eks.Cluster) {
    super(cluster, 'AwsAuthAbsorbed');
    // `node.addDependency(cluster.awsAuth)` (the aws-eks idiom: wait until the mappings are
    // in aws-auth) waits for the reconciler's aws-auth write
    Dependable.implement(this, { dependencyRoots: [writer.resource] });
  }

  public addMastersRole(role: iam.IRole, username?: string): void {
    this.addRoleMapping(role, { username, groups: ['system:masters'] });
  }

  public addRoleMapping(role: iam.IRole, mapping: eks.AwsAuthMapping): void {
    this.assertSameStack(role);
    let arn: string;
    try {
      // the path-less ARN that aws-iam-authenticator matches (aws-eks writes the ARN as is)
      arn = AccessPrincipal.fromRole(role)._bind(this).mappedArn;
    } catch (e) {
      throw constructError(this.cluster, `cluster.awsAuth.addRoleMapping(${role.node.path}) cannot be written by cdk-eks-access: ${(e as Error).message}`);
    }
    this.writer.addAbsorbed({
      type: AccessPrincipalType.ROLE,
      identity: role,
      arn,
      // aws-eks's default username is the role ARN
      username: mapping.username ?? arn,
      groups: [...mapping.groups],
      description: `awsAuth.addRoleMapping(${role.node.path})`,
    });
  }

  public addUserMapping(user: iam.IUser, mapping: eks.AwsAuthMapping): void {
    this.assertSameStack(user);
    this.writer.addAbsorbed({
      type: AccessPrincipalType.USER,
      identity: user,
      arn: user.userArn,
      username: mapping.username ?? user.userArn,
      groups: [...mapping.groups],
      description: `awsAuth.addUserMapping(${user.node.path})`,
    });
  }

  public addAccount(accountId: string): void {
    throw this.accountError(accountId);
  }

  public accountError(accountId: string): Error {
    return constructError(this.cluster, `cluster.awsAuth.addAccount(${show(accountId)}): cdk-eks-access writes aws-auth for this cluster and does not write mapAccounts (it maps every role and user of an account, each named after its ARN). Grant the account's roles with ClusterAccess.grantRole() instead.`);
  }

  private assertSameStack(construct: IConstruct) {
    if (Stack.of(construct) !== Stack.of(this)) {
      throw constructError(this.cluster, `${construct.node.path} should be defined in the stack of ${this.cluster.node.path} (${Stack.of(this).stackName}) to be mapped in its aws-auth; a reference from another stack would make the stacks depend on each other.`);
    }
  }
}
