import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import { AccessLevel, AccessPrincipal } from '../src';
import { awsAuth, TEST_APP_PROPS, testCluster, testStack } from './util';

const LOOKUP = 'Custom::CdkEksAccessSsoRole';

function lookupId(template: Template, name: string): string {
  const found = Object.entries(template.findResources(LOOKUP)).filter(([, r]) => r.Properties.PermissionSetName === name);
  expect(found).toHaveLength(1);
  return found[0][0];
}

describe('AccessPrincipal.fromSsoPermissionSetName', () => {
  test('aws-auth gets the looked-up path-less ARN as a CloudFormation attribute', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    cluster.grant(AccessPrincipal.fromSsoPermissionSetName('ViewOnlyAccess'), AccessLevel.namespaceView('team-a'));
    cluster.grant(AccessPrincipal.fromSsoPermissionSetName('ViewOnlyAccess'), AccessLevel.clusterView());
    const template = Template.fromStack(stack);
    const id = lookupId(template, 'ViewOnlyAccess');
    expect(awsAuth(template).mapRoles).toContainEqual({
      rolearn: `\${${id}.PathlessArn}`,
      username: 'sso:ViewOnlyAccess:{{SessionName}}',
      groups: ['cdk-eks-access:cluster-view', 'cdk-eks-access:team-a:view'],
    });
    template.resourceCountIs(LOOKUP, 1); // one lookup per permission set
  });

  test('access entries get the full ARN attribute', () => {
    const stack = testStack();
    const cluster = testCluster(stack, { authenticationMode: eks.AuthenticationMode.API });
    cluster.grant(AccessPrincipal.fromSsoPermissionSetName('Dev'), AccessLevel.namespaceEdit('apps'));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: { 'Fn::GetAtt': [lookupId(template, 'Dev'), 'Arn'] },
      KubernetesGroups: ['cdk-eks-access:apps:edit'],
    });
  });

  test('the provider may only list roles under the SSO path (plus what a Lambda needs to log)', () => {
    const stack = testStack();
    testCluster(stack).grant(AccessPrincipal.fromSsoPermissionSetName('Dev'), AccessLevel.clusterView());
    const template = Template.fromStack(stack);
    const roles = Object.values(template.findResources('AWS::IAM::Role')).filter(r => JSON.stringify(r).includes('iam:ListRoles'));
    expect(roles).toHaveLength(1);
    expect(roles[0].Properties.ManagedPolicyArns).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' }]);
    expect(roles[0].Properties.Policies).toEqual([{
      PolicyName: 'Inline',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Action: 'iam:ListRoles',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/aws-reserved/sso.amazonaws.com/*']] },
        }],
      },
    }]);
  });

  test('refresh re-runs the lookup (a changed property is an update)', () => {
    const refreshOf = (refresh?: string) => {
      const stack = testStack();
      testCluster(stack).grant(AccessPrincipal.fromSsoPermissionSetName('Dev', { refresh }), AccessLevel.clusterView());
      return Object.values(Template.fromStack(stack).findResources(LOOKUP))[0].Properties.Refresh;
    };
    expect(refreshOf()).toBeUndefined();
    expect(refreshOf('2026-11-28')).toBe('2026-11-28');
  });

  test('different refresh values for one permission set are an error', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    cluster.grant(AccessPrincipal.fromSsoPermissionSetName('Dev', { refresh: 'a' }), AccessLevel.clusterView());
    expect(() => cluster.grant(AccessPrincipal.fromSsoPermissionSetName('Dev', { refresh: 'b' }), AccessLevel.clusterView())).toThrow(/different refresh values \("a" and "b"\)/);
  });

  test.each(['', 'has space', 'a'.repeat(33), 'slash/name'])('name %j is refused at call time', name => {
    expect(() => AccessPrincipal.fromSsoPermissionSetName(name)).toThrow(new RegExp(`${JSON.stringify(name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a permission-set name`));
  });

  describe('by name and by ARN of the same permission set', () => {
    const ARN = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_Dev_05a38657af2a0a01';

    test('same account: a synth error (two entries for one role)', () => {
      const stack = new Stack(new App(TEST_APP_PROPS), 'S', { env: { account: '111122223333' } });
      const cluster = testCluster(stack);
      cluster.grant(AccessPrincipal.fromSsoPermissionSetName('Dev'), AccessLevel.clusterView());
      cluster.grantSsoPermissionSet(ARN, AccessLevel.namespaceView('a'));
      expect(() => Template.fromStack(stack)).toThrow(/permission set "Dev" is granted both by name and by role ARN .* in account 111122223333: that is the same role/);
    });

    test('another account: two different roles, fine', () => {
      const stack = new Stack(new App(TEST_APP_PROPS), 'S', { env: { account: '999999999999' } });
      const cluster = testCluster(stack);
      cluster.grant(AccessPrincipal.fromSsoPermissionSetName('Dev'), AccessLevel.clusterView());
      cluster.grantSsoPermissionSet(ARN, AccessLevel.namespaceView('a'));
      expect(awsAuth(Template.fromStack(stack)).mapRoles).toHaveLength(3);
    });

    test('unknown stack account: a warning with a stable id', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grant(AccessPrincipal.fromSsoPermissionSetName('Dev'), AccessLevel.clusterView());
      cluster.grantSsoPermissionSet(ARN, AccessLevel.namespaceView('a'));
      Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('granted both by name and by role ARN.*cdk-eks-access:ssoPermissionSetByNameAndArn'));
    });
  });
});
