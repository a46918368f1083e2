/**
 * Example: access to a cluster created outside this app (by eksctl, Terraform, another
 * CDK app), imported by name with a kubectl role that holds cluster admin. The endpoint
 * and certificate authority are looked up at deploy time (eks:DescribeCluster).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, ClusterAccess } from '../src';

export function buildImportedStack(app: App, id = 'EksAccessImported'): Stack {
  const stack = new Stack(app, id);

  // README: any aws-eks cluster (imported)
  const imported = eks.Cluster.fromClusterAttributes(stack, 'Prod', {
    clusterName: 'prod',
    // a role that holds cluster admin (system:masters, or AmazonEKSClusterAdminPolicy)
    kubectlRoleArn: 'arn:aws:iam::111122223333:role/prod-kubectl',
  });
  ClusterAccess.of(imported).grantRole(iam.Role.fromRoleArn(stack, 'Oncall', 'arn:aws:iam::111122223333:role/Oncall'), AccessLevel.namespaceEdit('payments'));

  return stack;
}

if (require.main === module) {
  const app = new App();
  buildImportedStack(app);
  app.synth();
}
