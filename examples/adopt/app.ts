/**
 * Example: adopting a cluster created outside this app, whose aws-auth is
 * examples/adopt/aws-auth.yaml (README: Adopting an existing cluster). The function body
 * between the markers is what `cdk-eks-access import examples/adopt/aws-auth.yaml --var access`
 * prints, pasted unchanged; scripts/adopt-test.sh (run by the test command) checks that it
 * still is, synthesizes this app and plans its deploy against the sample ConfigMap.
 *
 *   npx cdk synth --app 'npx ts-node -P test/tsconfig.json examples/adopt/app.ts'
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import { AccessLevel, AccessPrincipal, ClusterAccess } from '../../src';

/** The grants of the existing aws-auth. */
export function adoptedGrants(access: ClusterAccess): void {
  // --- pasted: cdk-eks-access import examples/adopt/aws-auth.yaml --var access
  // cdk-eks-access import examples/adopt/aws-auth.yaml: 3 grant statements for `access` (an EksCluster, or ClusterAccess.of(cluster)).
  // Needs: import { AccessLevel, AccessPrincipal } from 'cdk-eks-access';
  // Each grant reproduces its aws-auth entry (username and groups), so the first deploy adopts the entry as it is;
  // `cdk-eks-access plan --aws-auth FILE` shows what the deploy would do.

  // mapRoles item 1 (arn:aws:iam::111122223333:role/eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F): a node or Fargate role (username system:node:{{EC2PrivateDNSName}}, groups system:bootstrappers, system:nodes).
  // EKS or the node group writes it; the reconciler leaves it alone (and adopts it for a node group of this app).

  access.grant(AccessPrincipal.fromRoleArn("arn:aws:iam::111122223333:role/PlatformOps"), AccessLevel.clusterAdmin(), { username: "platform-ops:{{SessionName}}" });

  // mapRoles item 3 (arn:aws:iam::111122223333:role/AWSReservedSSO_Developers_0123456789abcdef): developers is bound outside the app (the library generates no binding for it).
  access.grant(AccessPrincipal.fromSsoPermissionSet("arn:aws:iam::111122223333:role/AWSReservedSSO_Developers_0123456789abcdef"), AccessLevel.existingGroups(["developers"]), { username: "dev:{{SessionName}}" });

  // mapUsers item 1 (arn:aws:iam::111122223333:user/ci/deployer): deployers is bound outside the app (the library generates no binding for it).
  access.grant(AccessPrincipal.fromUserArn("arn:aws:iam::111122223333:user/ci/deployer"), AccessLevel.existingGroups(["deployers"]), { username: "ci-deployer" });
  // --- end of pasted
}

export function buildAdoptStack(app: App, id = 'EksAccessAdopt'): Stack {
  const stack = new Stack(app, id);
  const prod = eks.Cluster.fromClusterAttributes(stack, 'Prod', {
    clusterName: 'prod',
    kubectlRoleArn: 'arn:aws:iam::111122223333:role/prod-kubectl',
  });
  const access = ClusterAccess.of(prod);
  adoptedGrants(access);
  // a new grant, made once the cluster is managed here
  access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Auditor'), AccessLevel.clusterView());
  return stack;
}

if (require.main === module) {
  const app = new App();
  buildAdoptStack(app);
  app.synth();
}
