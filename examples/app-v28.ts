/**
 * Example for readers with older clusters: Kubernetes 1.28 with the v28 kubectl layer
 * (the default for 1.27-1.29). EKS no longer creates 1.28 clusters; this shows the
 * pairing for managing an existing one.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, EksCluster } from '../src';

export function buildV28Stack(app: App, id = 'EksAccessV128'): Stack {
  const stack = new Stack(app, id);
  const ops = iam.Role.fromRoleArn(stack, 'Ops', 'arn:aws:iam::111122223333:role/platform/Ops', { mutable: false });
  const cluster = new EksCluster(stack, 'Cluster', {
    version: eks.KubernetesVersion.V1_28,
    adminRole: ops,
    defaultCapacity: 1,
  });
  cluster.grantSsoPermissionSet(
    'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developers_fedcba9876543210',
    AccessLevel.namespaceAdmin('team-b'));
  return stack;
}

if (require.main === module) {
  const app = new App();
  buildV28Stack(app);
  app.synth();
}
