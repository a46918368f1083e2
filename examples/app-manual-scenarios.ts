/**
 * Example: the manual EKS access scenarios this library replaces, in one app, each with
 * the commands people otherwise run by hand. Synthesizes offline; the test command
 * synthesizes it with the real CDK CLI, lints it with cfn-lint, and test/manual-scenarios.test.ts
 * asks the access report who can do what.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, EksCluster } from '../src';

export function buildManualScenariosStack(app: App, id = 'EksAccessManualScenarios'): Stack {
  const stack = new Stack(app, id);

  // 1. An explicit admin role from creation (instead of: create the cluster, then only
  //    the creator's identity can reach it). `Ops` may assume ClusterAdmin.
  const cluster = new EksCluster(stack, 'Cluster', {
    version: eks.KubernetesVersion.V1_35,
    adminPrincipal: new iam.ArnPrincipal('arn:aws:iam::111122223333:role/Ops'),
    defaultCapacity: 0,
  });

  // 2. Another role and an IAM user as cluster admins (instead of:
  //    eksctl create iamidentitymapping --arn <role> --group system:masters, path stripped by hand)
  const breakGlass = new iam.Role(stack, 'BreakGlass', { assumedBy: new iam.AccountRootPrincipal(), path: '/emergency/' });
  cluster.grantRole(breakGlass, AccessLevel.clusterAdmin());
  cluster.grantUser(iam.User.fromUserArn(stack, 'Carol', 'arn:aws:iam::111122223333:user/admins/carol'), AccessLevel.clusterAdmin(), { username: 'carol' });

  // 3. A user with full access to one namespace (instead of: a RoleBinding to admin in
  //    the namespace, plus the aws-auth mapping of the user to the binding's group)
  const dave = new iam.User(stack, 'Dave');
  cluster.grantUser(dave, AccessLevel.namespaceAdmin('payments'), { consoleAccess: true });

  // 4. An SSO permission set as cluster admin, and another as reader of one namespace
  //    (instead of: copying the AWSReservedSSO role ARN and deleting its path by hand)
  cluster.grantSsoPermissionSet(
    'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformAdmins_1a2b3c4d5e6f7a8b',
    AccessLevel.clusterAdmin());
  cluster.grantSsoPermissionSet(
    'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PaymentsReaders_0f1e2d3c4b5a6978',
    AccessLevel.namespaceView('payments'), { consoleAccess: true });

  return stack;
}

if (require.main === module) {
  const app = new App();
  buildManualScenariosStack(app);
  app.synth();
}
