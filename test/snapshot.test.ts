import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, EksCluster, SnapshotTemplate } from '../src';

/** The recipe the README gives users, applied to a small stack. */
function build(version = eks.KubernetesVersion.V1_35) {
  process.env.CDK_VALIDATION = 'false';
  const app = new App({ context: { 'aws:cdk:disable-asset-staging': true } });
  const stack = new Stack(app, 'Snap');
  const cluster = new EksCluster(stack, 'Cluster', { version, adminPrincipal: new iam.ArnPrincipal('arn:aws:iam::111122223333:role/Ops'), defaultCapacity: 0 });
  cluster.grantSsoPermissionSet('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01', AccessLevel.namespaceView('team-a'));
  return stack;
}

describe('upgrading a stack deployed with the previous release (aws-auth through aws-eks)', () => {
  // both values are from the previous release's committed snapshot of this same stack
  const PREVIOUS_AWS_AUTH_ID = 'ClusterAwsAuthmanifestA75E0830';
  const PREVIOUS_PRUNE_LABEL = 'aws.cdk.eks/prune-c87eb7afb345d1d3add5eca5571e7ab0368c1eefa7';

  test('the old aws-auth resource is updated into a retained placeholder, never removed (removal would kubectl delete aws-auth)', () => {
    const resources = Template.fromStack(build()).toJSON().Resources;
    expect(resources[PREVIOUS_AWS_AUTH_ID]).toMatchObject({ Type: 'Custom::AWSCDK-EKS-KubernetesResource', DeletionPolicy: 'Retain' });
    expect(resources[PREVIOUS_AWS_AUTH_ID].Properties.PruneLabel).toBeUndefined();
    expect(JSON.parse(resources[PREVIOUS_AWS_AUTH_ID].Properties.Manifest)[0].metadata.name).toBe('cdk-eks-access-aws-auth-handover');
  });

  test('the reconciler is told the old prune label, so the entries aws-eks applied are taken over as this stack\'s', () => {
    Template.fromStack(build()).hasResourceProperties('Custom::CdkEksAccessAwsAuth', { LegacyPruneLabel: PREVIOUS_PRUNE_LABEL });
  });
});

describe('SnapshotTemplate', () => {
  test('replaces every asset hash, and only those', () => {
    const raw = JSON.stringify(Template.fromStack(build()).toJSON());
    expect(raw).toMatch(/[0-9a-f]{64}/);
    const stable = JSON.stringify(SnapshotTemplate.fromStack(build()));
    expect(stable).not.toMatch(/[0-9a-f]{64}/);
    expect(stable).toContain('[ASSET-HASH].zip');
    expect(stable.replace(/\[ASSET-HASH\]/g, '')).toBe(raw.replace(/[0-9a-f]{64}/g, ''));
  });

  test('a different kubectl layer asset gives the same snapshot apart from its description', () => {
    const a = SnapshotTemplate.normalize({ S3Key: `${'a'.repeat(64)}.zip` });
    const b = SnapshotTemplate.normalize({ S3Key: `${'b'.repeat(64)}.zip` });
    expect(a).toEqual(b);
  });

  // The README's recipe, verbatim (a supplement to the behavioural tests).
  test('cluster access', () => {
    process.env.CDK_VALIDATION = 'false';
    const app = new App({
      context: { 'aws:cdk:disable-asset-staging': true },
    });
    const stack = new Stack(app, 'Snap');
    const cluster = new EksCluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_35,
      adminPrincipal: new iam.ArnPrincipal('arn:aws:iam::111122223333:role/Ops'),
      defaultCapacity: 0,
    });
    cluster.grantSsoPermissionSet(
      'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01',
      AccessLevel.namespaceView('team-a'));
    expect(SnapshotTemplate.fromStack(stack)).toMatchSnapshot();
  });
});
