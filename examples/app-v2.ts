/**
 * Example: an aws-eks-v2 cluster (native AWS::EKS::Cluster, API authentication mode) with
 * exactly one explicit admin from creation, and grants written as EKS access entries. The
 * built-in levels are EKS access policies; the one custom level adds the reconciler (a
 * Lambda function that writes its Role and RoleBinding, authenticating with an access
 * entry of its own).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, ClusterAccess } from '../src';

export function buildV2Stack(app: App, id = 'EksAccessV2'): Stack {
  const stack = new Stack(app, id);

  // README: aws-eks-v2
  const cluster = new eksv2.Cluster(stack, 'Cluster', {
    version: eksv2.KubernetesVersion.V1_35,
    // no implicit admin: whoever deploys gets no access entry of its own (changing this later replaces the cluster)
    bootstrapClusterCreatorAdminPermissions: false,
  });
  const access = ClusterAccess.ofV2(cluster);

  const admin = new iam.Role(stack, 'ClusterAdmin', { assumedBy: new iam.ArnPrincipal('arn:aws:iam::111122223333:role/Ops') });
  access.grantRole(admin, AccessLevel.clusterAdmin());
  access.grantSsoPermissionSet(
    'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_Developers_05a38657af2a0a01',
    AccessLevel.namespaceEdit('dev-*')); // every namespace whose name starts with dev-
  access.grantRole(iam.Role.fromRoleArn(stack, 'Auditor', 'arn:aws:iam::111122223333:role/security/Auditor'), AccessLevel.clusterView());
  // README: end

  // a custom level: Kubernetes groups on the access entry, RBAC through the reconciler
  access.grantRole(iam.Role.fromRoleArn(stack, 'Deployer', 'arn:aws:iam::111122223333:role/ci/Deployer'), AccessLevel.custom({
    namespaceName: 'payments',
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'patch'] }],
  }));

  return stack;
}

if (require.main === module) {
  const app = new App();
  buildV2Stack(app);
  app.synth();
}
