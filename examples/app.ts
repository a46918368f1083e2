/**
 * Example: a cluster on a currently supported Kubernetes version (default kubectl
 * layer), with the grants from the README. Synthesizes offline (environment-agnostic).
 *
 *   npx cdk synth --app 'npx ts-node -P test/tsconfig.json examples/app.ts'
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, AccessPrincipal, ClusterAccess, EksCluster } from '../src';

export function buildExampleStack(app: App, id = 'EksAccessExample'): Stack {
  const stack = new Stack(app, id);

  // README: quick start
  const cluster = new EksCluster(stack, 'Cluster', {
    version: eks.KubernetesVersion.V1_35,
    adminPrincipal: new iam.ArnPrincipal('arn:aws:iam::111122223333:role/PlatformOps'),
    defaultCapacity: 0,
  });

  // README: IAM roles
  const deployer = new iam.Role(stack, 'Deployer', {
    assumedBy: new iam.AccountRootPrincipal(),
    path: '/ci/',
  });
  cluster.grantRole(deployer, AccessLevel.namespaceEdit('apps'));

  // README: IAM users
  const alice = iam.User.fromUserArn(stack, 'Alice', 'arn:aws:iam::111122223333:user/engineering/alice');
  cluster.grantUser(alice, AccessLevel.clusterView(), { username: 'alice' });

  // README: SSO permission sets
  cluster.grantSsoPermissionSet(
    'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01',
    AccessLevel.namespaceView('team-a'));
  cluster.grantSsoPermissionSet(
    'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef',
    AccessLevel.clusterAdmin());

  // README: SSO permission sets by name (looked up at deploy time)
  cluster.grant(AccessPrincipal.fromSsoPermissionSetName('PlatformReadOnly'), AccessLevel.clusterView());

  // README: custom rules
  cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/ci'), AccessLevel.custom({
    namespaceName: 'apps',
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }],
  }));

  // README: any aws-eks cluster
  const access = ClusterAccess.of(cluster.cluster);
  access.grantRole(iam.Role.fromRoleArn(stack, 'Auditor', 'arn:aws:iam::111122223333:role/security/Auditor'), AccessLevel.clusterView());

  return stack;
}

if (require.main === module) {
  const app = new App();
  buildExampleStack(app);
  app.synth();
}
