import * as fs from 'fs';
import * as path from 'path';
import { Annotations, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { WARNINGS } from './constants';
import { constructError } from './errors';
import { ClusterConnection } from '../handlers/access-reconciler/protocol';

/** The bundled handler (built by the `bundle:handlers` task; shipped in the package). */
const HANDLER_DIR = path.join(__dirname, '..', '..', 'assets', 'access-reconciler');

/**
 * Timeout of the reconciler function. The handler's retries of transient API errors fit
 * well inside it (see `TRANSIENT_RETRY_BUDGET_MS` in the handler's kube.ts).
 */
export const RECONCILER_TIMEOUT = Duration.minutes(10);

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
 * behind the CDK provider framework, allowed to assume the cluster's kubectl role (which
 * holds cluster admin) and to describe the cluster, and placed in the cluster's kubectl
 * subnets when the endpoint is private.
 *
 * Adds a function, its role and policy, its log group, and the provider framework's
 * function, role and policy.
 */
export class ReconcilerProvider extends Construct {
  /** How the handler reaches the cluster: the common properties of every reconciler resource. */
  public readonly connection: ClusterConnection;
  /** The execution role of the handler. */
  public readonly handlerRole: iam.IRole;

  private readonly serviceToken: string;

  constructor(scope: Construct, id: string, private readonly cluster: eks.ICluster) {
    super(scope, id);
    if (!fs.existsSync(path.join(HANDLER_DIR, 'index.js'))) {
      throw constructError(this, `the reconciler handler is missing at ${HANDLER_DIR}; it is bundled at build time (npx projen bundle:handlers).`);
    }
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
    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      // in a VPC, Lambda needs to manage network interfaces: the policy AWS documents for it
      managedPolicies: vpc ? [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')] : [],
    });
    // its own log group, so the role writes logs there only (and the retention is set)
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [kubectlRole.roleArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [cluster.clusterArn] }));
    // the stack's status tells a stack delete from a rollback's cleanup (see the handler)
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [Stack.of(this).stackId] }));
    this.handlerRole = role;

    if (cluster instanceof eks.Cluster) {
      // aws-eks's kubectl role trusts only its own handlers: add ours, as aws-eks does for its kubectl handler
      cluster.adminRole.assumeRolePolicy?.addStatements(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], principals: [role] }));
    } else {
      Annotations.of(this).addWarningV2(WARNINGS.importedKubectlRoleTrust,
        `the reconciler assumes ${kubectlRole.roleArn} (the kubectl role of the imported cluster ${cluster.node.path}); its trust policy must allow ${role.node.path} (it does if it trusts the account root), and it must hold cluster admin. This cannot be checked before deploy.`);
    }

    const fn = new lambda.Function(this, 'Handler', {
      description: `cdk-eks-access: writes aws-auth entries, namespaces and RBAC objects of ${cluster.node.path}`,
      // the newest Node.js runtime of the region (the bundle targets Node.js 22 and later)
      runtime: lambda.determineLatestNodeRuntime(this),
      logGroup,
      code: lambda.Code.fromAsset(HANDLER_DIR),
      handler: 'index.handler',
      timeout: RECONCILER_TIMEOUT,
      memorySize: 256,
      role,
      ...(vpc ? { vpc, vpcSubnets: { subnets }, securityGroups: cluster.kubectlSecurityGroup ? [cluster.kubectlSecurityGroup] : undefined } : {}),
    });
    const provider = new cr.Provider(this, 'Provider', { onEventHandler: fn });
    this.serviceToken = provider.serviceToken;

    const endpoint = optional(() => cluster.clusterEndpoint);
    const ca = optional(() => cluster.clusterCertificateAuthorityData);
    this.connection = {
      ClusterName: cluster.clusterName,
      RoleArn: kubectlRole.roleArn,
      // when the import does not give them, the handler asks eks:DescribeCluster
      ...(endpoint !== undefined ? { Endpoint: endpoint } : {}),
      ...(ca !== undefined ? { CertificateAuthorityData: ca } : {}),
    };
  }

  /** A reconciler custom resource under `scope`, with the connection properties and `properties`. */
  public resource(scope: Construct, id: string, resourceType: string, properties: Record<string, unknown>): CustomResource {
    const resource = new CustomResource(scope, id, {
      serviceToken: this.serviceToken,
      resourceType,
      properties: { ...this.connection, ...properties },
    });
    // aws-eks's barrier: the cluster and its kubectl role are ready
    const barrier = (this.cluster as unknown as { _kubectlReadyBarrier?: IConstruct })._kubectlReadyBarrier;
    if (barrier) resource.node.addDependency(barrier);
    return resource;
  }
}
