/**
 * Scenario stacks that the test command synthesizes with the real aws-cdk CLI and checks
 * with cfn-lint and the Kubernetes validator (scripts/validate-k8s.mjs): the seed
 * scenarios, a 400-grant stack, and each authentication mode.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, AccessPrincipal, EksCluster, EksClusterProps } from '../src';
import { mixedGrants } from './fixtures';

const SSO = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01';

function cluster(app: App, id: string, props: Partial<EksClusterProps> = {}): { stack: Stack; cluster: EksCluster } {
  const stack = new Stack(app, id);
  return {
    stack,
    cluster: new EksCluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_35,
      adminPrincipal: new iam.ArnPrincipal('arn:aws:iam::111122223333:role/PlatformOps'),
      defaultCapacity: 0,
      ...props,
    }),
  };
}

export function buildScenarios(app: App): Stack[] {
  const stacks: Stack[] = [];

  // (a) another IAM role and an IAM user as system:masters, next to a managed node group
  const a = cluster(app, 'SeedMasters');
  a.cluster.cluster.addNodegroupCapacity('Nodes', { minSize: 1 });
  a.cluster.grantRole(iam.Role.fromRoleArn(a.stack, 'Ops2', 'arn:aws:iam::111122223333:role/ops/SecondOps'), AccessLevel.clusterAdmin());
  a.cluster.grantUser(iam.User.fromUserArn(a.stack, 'Alice', 'arn:aws:iam::111122223333:user/admins/alice'), AccessLevel.clusterAdmin());
  stacks.push(a.stack);

  // (b) an SSO permission-set role with a regional path as cluster admin
  const b = cluster(app, 'SeedSsoAdmin');
  b.cluster.grantSsoPermissionSet(SSO, AccessLevel.clusterAdmin());
  stacks.push(b.stack);

  // (c) the same SSO role as namespace reader of team-a
  const c = cluster(app, 'SeedSsoReader');
  c.cluster.grantSsoPermissionSet(SSO, AccessLevel.namespaceView('team-a'));
  stacks.push(c.stack);

  // 400 mixed grants
  const big = cluster(app, 'Grants400');
  for (const g of mixedGrants(400)) big.cluster.grant(g.principal, g.level, g.options);
  stacks.push(big.stack);

  // each authentication mode
  const both = cluster(app, 'ModeApiAndConfigMap', { authenticationMode: eks.AuthenticationMode.API_AND_CONFIG_MAP });
  for (const g of mixedGrants(20)) both.cluster.grant(g.principal, g.level, g.options);
  both.cluster.grant(AccessPrincipal.fromSsoPermissionSetName('PlatformReadOnly'), AccessLevel.clusterView());
  stacks.push(both.stack);
  const api = cluster(app, 'ModeApi', { authenticationMode: eks.AuthenticationMode.API });
  for (const g of mixedGrants(20)) api.cluster.grant(g.principal, g.level, g.options);
  stacks.push(api.stack);

  // 400 grants as access entries (one AWS::EKS::AccessEntry per principal)
  const apiBig = cluster(app, 'ModeApiGrants400', { authenticationMode: eks.AuthenticationMode.API });
  for (const g of mixedGrants(400)) apiBig.cluster.grant(g.principal, g.level, g.options);
  stacks.push(apiBig.stack);

  return stacks;
}

if (require.main === module) {
  const app = new App();
  buildScenarios(app);
  app.synth();
}
