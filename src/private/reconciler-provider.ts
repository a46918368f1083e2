import * as fs from 'fs';
import * as path from 'path';
import { Annotations, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { ERRORS, WARNINGS } from './constants';
import { constructError } from './errors';
import { endpointIsPublic, TargetCluster, v1BootstrapsCreatorAdmin } from './target-cluster';
import { accessPolicyArn, CLUSTER_ADMIN_POLICY } from '../access-entry/access-policies';
import { ClusterConnection } from '../handlers/access-reconciler/protocol';

/** The bundled handler (built by the `bundle:handlers` task; shipped in the package). */
const HANDLER_DIR = path.join(__dirname, '..', '..', 'assets', 'access-reconciler');

/**
 * Timeout of the reconciler function. The handler's retries of transient API errors fit
 * well inside it (see `TRANSIENT_RETRY_BUDGET_MS` in the handler's kube.ts).
 */
export const RECONCILER_TIMEOUT = Duration.minutes(10);

/** Where the handler runs and how it authenticates. */
interface Placement {
  /** the role to assume for the EKS token; undefined: the handler's own role */
  readonly roleArn?: string;
  readonly vpc?: ec2.IVpc;
  readonly subnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** Reads an attribute of an imported cluster that aws-cdk-lib throws on when it was not given. */
function optional<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * The reconciler of one cluster: a Lambda function (the bundled TypeScript handler)
 * behind the CDK provider framework.
 *
 * On aws-eks clusters it assumes the cluster's kubectl role (which holds cluster admin)
 * and runs where the kubectl handler runs (the kubectl private subnets, when the endpoint
 * is private). On aws-eks-v2 clusters, which may have no kubectl provider, it
 * authenticates as itself: its execution role gets an access entry with
 * `AmazonEKSClusterAdminPolicy` (cluster admin: it writes ClusterRoles and bindings that
 * grant arbitrary rules, and Kubernetes lets only a holder of those rules, or of
 * `escalate`/`bind`, write them; no narrower access policy covers that), and every
 * reconciler resource depends on that entry. It runs outside any VPC unless the endpoint
 * is private (or `subnets` are given): then in the cluster VPC's private subnets with
 * the cluster security group.
 *
 * Adds a function, its role and policy, its log group, and the provider framework's
 * function, role and policy; on aws-eks-v2 also one access entry.
 */
export class ReconcilerProvider extends Construct {
  /** How the handler reaches the cluster: the common properties of every reconciler resource. */
  public readonly connection: ClusterConnection;
  /** The execution role of the handler. */
  public readonly handlerRole: iam.IRole;

  private readonly serviceToken: string;
  private readonly dependencies: IConstruct[] = [];

  constructor(scope: Construct, id: string, private readonly target: TargetCluster, subnets?: ec2.SubnetSelection) {
    super(scope, id);
    if (!fs.existsSync(path.join(HANDLER_DIR, 'index.js'))) {
      throw constructError(this, `the reconciler handler is missing at ${HANDLER_DIR}; it is bundled at build time (npx projen bundle:handlers).`);
    }
    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    // its own log group, so the role writes logs there only (and the retention is set)
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    logGroup.grantWrite(role);
    const placement = target.v1 ? this.placeV1(target.v1, role) : this.placeV2(target.v2!, role, subnets);
    if (placement.vpc) {
      // in a VPC, Lambda needs to manage network interfaces: the policy AWS documents for it
      role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    }
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [target.clusterArn] }));
    // the stack's status tells a stack delete from a rollback's cleanup, and its resources tell
    // a live owner of an RBAC object from one CloudFormation no longer has (see the handler)
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks', 'cloudformation:ListStackResources'],
      resources: [Stack.of(this).stackId],
    }));
    this.handlerRole = role;

    const fn = new lambda.Function(this, 'Handler', {
      description: `cdk-eks-access: writes aws-auth entries, namespaces and RBAC objects of ${target.construct.node.path}`,
      // the newest Node.js runtime of the region (the bundle targets Node.js 22 and later)
      runtime: lambda.determineLatestNodeRuntime(this),
      logGroup,
      code: lambda.Code.fromAsset(HANDLER_DIR),
      handler: 'index.handler',
      timeout: RECONCILER_TIMEOUT,
      memorySize: 256,
      role,
      ...(placement.vpc ? { vpc: placement.vpc, vpcSubnets: placement.subnets, securityGroups: placement.securityGroups } : {}),
    });
    const provider = new cr.Provider(this, 'Provider', { onEventHandler: fn });
    this.serviceToken = provider.serviceToken;

    this.connection = {
      ClusterName: target.clusterName,
      // without a role, the handler signs its EKS token as itself (aws-eks-v2); the endpoint
      // and CA it asks of eks:DescribeCluster on every event
      ...(placement.roleArn !== undefined ? { RoleArn: placement.roleArn } : {}),
    };
  }

  private placeV1(cluster: eks.ICluster, role: iam.Role): Placement {
    const kubectlRole = cluster.kubectlRole
      ?? (cluster.kubectlProvider ? iam.Role.fromRoleArn(this, 'KubectlRole', cluster.kubectlProvider.roleArn, { mutable: false }) : undefined);
    if (!kubectlRole) {
      throw constructError(this, `the cluster ${cluster.node.path} has no kubectl role, so the reconciler cannot authenticate to it. Import it with eks.Cluster.fromClusterAttributes({ ..., kubectlRoleArn }) naming a role that holds cluster admin (system:masters in aws-auth, or an access entry with AmazonEKSClusterAdminPolicy), or with a kubectlProvider.`);
    }
    const subnets = cluster.kubectlPrivateSubnets;
    let vpc;
    if (subnets && subnets.length > 0) {
      vpc = optional(() => cluster.vpc);
      if (!vpc) {
        throw constructError(this, `the cluster ${cluster.node.path} has kubectl private subnets but no VPC; import it with vpc as well, so the reconciler can run in those subnets.`);
      }
    }
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [kubectlRole.roleArn] }));
    if (cluster instanceof eks.Cluster && !v1BootstrapsCreatorAdmin(cluster)) this.creatorAccessEntry(cluster);
    if (cluster instanceof eks.Cluster) {
      // aws-eks's kubectl role trusts only its own handlers: add ours, as aws-eks does for its kubectl handler
      cluster.adminRole.assumeRolePolicy?.addStatements(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], principals: [role] }));
    } else {
      Annotations.of(this).addWarningV2(WARNINGS.importedKubectlRoleTrust,
        `the reconciler assumes ${kubectlRole.roleArn} (the kubectl role of the imported cluster ${cluster.node.path}); its trust policy must allow ${role.node.path} (it does if it trusts the account root), and it must hold cluster admin. This cannot be checked before deploy.`);
    }
    // aws-eks's barrier: the cluster and its kubectl role are ready
    const barrier = (cluster as unknown as { _kubectlReadyBarrier?: IConstruct })._kubectlReadyBarrier;
    if (barrier) this.dependencies.push(barrier);
    return {
      roleArn: kubectlRole.roleArn,
      vpc,
      subnets: vpc ? { subnets } : undefined,
      securityGroups: vpc && cluster.kubectlSecurityGroup ? [cluster.kubectlSecurityGroup] : undefined,
    };
  }

  /**
   * aws-eks creates the cluster as its creation role (`adminRole`, also its kubectl role,
   * which the reconciler signs in as). With `bootstrapClusterCreatorAdminPermissions: false`
   * EKS gives that role no access entry: in the API modes the reconciler gives it one with
   * `AmazonEKSClusterAdminPolicy` (cluster scope), on which every reconciler resource
   * depends; in CONFIG_MAP, EKS refuses to create the cluster, so synth fails first.
   */
  private creatorAccessEntry(cluster: eks.Cluster): void {
    const mode = cluster.authenticationMode ?? eks.AuthenticationMode.CONFIG_MAP;
    if (mode === eks.AuthenticationMode.CONFIG_MAP) {
      throw constructError(cluster, `[${ERRORS.configMapWithoutCreatorAdmin}] bootstrapClusterCreatorAdminPermissions is false and the authentication mode is CONFIG_MAP: EKS refuses to create such a cluster ("bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP", InvalidParameterException of CreateCluster). Remove bootstrapClusterCreatorAdminPermissions (EKS's default is true), or choose authenticationMode API_AND_CONFIG_MAP or API.`);
    }
    const entry = this.clusterAdminEntry('CreatorAccessEntry', cluster.clusterName, cluster.adminRole.roleArn);
    // a second entry for the role (a grant of it, aws-eks's grantAccess) would fail the deploy with 409
    this.node.addValidation({
      validate: () => {
        const stack = Stack.of(this);
        const key = (e: eks.CfnAccessEntry) => JSON.stringify(stack.resolve([e.clusterName, e.principalArn]));
        const ours = key(entry);
        return stack.node.findAll()
          .filter(c => c !== entry && (c as { cfnResourceType?: string }).cfnResourceType === 'AWS::EKS::AccessEntry' && key(c as eks.CfnAccessEntry) === ours)
          .map(c => `[${ERRORS.principalHasAccessEntry}] ${c.node.path} is a second access entry for ${cluster.adminRole.node.path} (aws-eks's creation role of ${cluster.node.path}), which the reconciler gives an access entry with AmazonEKSClusterAdminPolicy at ${entry.node.path} because bootstrapClusterCreatorAdminPermissions is false; EKS refuses a second entry for one principal (409). Remove that grant: the role is cluster admin already.`);
      },
    });
  }

  /** An access entry with `AmazonEKSClusterAdminPolicy` at cluster scope, on which every reconciler resource depends. */
  private clusterAdminEntry(id: string, clusterName: string, principalArn: string): eks.CfnAccessEntry {
    const entry = new eks.CfnAccessEntry(this, id, {
      clusterName,
      principalArn,
      type: 'STANDARD',
      accessPolicies: [{ policyArn: accessPolicyArn(Stack.of(this).partition, CLUSTER_ADMIN_POLICY), accessScope: { type: 'cluster' } }],
    });
    this.dependencies.push(entry);
    return entry;
  }

  private placeV2(cluster: eksv2.ICluster, role: iam.Role, subnets: ec2.SubnetSelection | undefined): Placement {
    this.clusterAdminEntry('AccessEntry', cluster.clusterName, role.roleArn);
    const inVpc = subnets !== undefined || endpointIsPublic(this.target) === false;
    if (!inVpc) return {};
    const vpc = optional(() => cluster.vpc);
    const securityGroup = optional(() => cluster.clusterSecurityGroup);
    if (!vpc || !securityGroup) {
      throw constructError(this, `the reconciler should run in the VPC of ${cluster.node.path} (${subnets ? 'reconcilerSubnets is given' : 'its endpoint is private'}), but the cluster construct has no ${vpc ? 'cluster security group' : 'VPC'}; import it with vpc and clusterSecurityGroupId.`);
    }
    return { vpc, subnets: subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [securityGroup] };
  }

  /** A reconciler custom resource under `scope`, with the connection properties and `properties`. */
  public resource(scope: Construct, id: string, resourceType: string, properties: Record<string, unknown>): CustomResource {
    const resource = new CustomResource(scope, id, {
      serviceToken: this.serviceToken,
      resourceType,
      properties: { ...this.connection, ...properties },
    });
    for (const d of this.dependencies) resource.node.addDependency(d);
    return resource;
  }
}
