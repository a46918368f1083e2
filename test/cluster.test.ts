import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AccessLevel, EksCluster } from '../src';
import { ADMIN_ARN, awsAuth, flatten, manifests, testApp, testCluster, testStack } from './util';

describe('EksCluster', () => {
  describe('admin role', () => {
    test('adminPrincipal: a new role the principal may assume, mapped path-less as system:masters', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      const cluster = testCluster(stack);
      // THEN
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Action: 'sts:AssumeRole', Principal: { AWS: ADMIN_ARN } })],
        }),
      });
      const adminLogicalId = stack.getLogicalId(cluster.adminRole.node.defaultChild as any);
      const { mapRoles, mapUsers } = awsAuth(template);
      expect(mapUsers).toEqual([]);
      expect(mapRoles).toEqual([{
        rolearn: `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/\${${adminLogicalId}}`,
        username: `role:\${${adminLogicalId}}:{{SessionName}}`,
        groups: ['system:masters'],
      }]);
      // the admin can run `aws eks update-kubeconfig`
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: [Match.objectLike({ Action: 'eks:DescribeCluster' })] },
      });
    });

    test('adminRole with an IAM path: the aws-auth entry is path-less and the role is not modified', () => {
      const stack = testStack();
      const role = iam.Role.fromRoleArn(stack, 'Ops', 'arn:aws:iam::111122223333:role/platform/team/Ops');
      const cluster = testCluster(stack, { adminRole: role });
      const template = Template.fromStack(stack);
      expect(cluster.adminRole).toBe(role);
      expect(awsAuth(template).mapRoles).toEqual([{
        rolearn: 'arn:aws:iam::111122223333:role/Ops',
        username: 'role:Ops:{{SessionName}}',
        groups: ['system:masters'],
      }]);
      // no policy of this stack is attached to the given role
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
        expect(JSON.stringify(policy.Properties.Roles ?? [])).not.toContain('Ops');
      }
      // aws-eks's mastersRole (which would write the pathed ARN) is not used: no manifest has the path
      for (const objects of Object.values(manifests(template))) {
        expect(JSON.stringify(objects)).not.toContain('platform/team');
      }
    });

    test('adminRole created in the stack with a path is mapped by name', () => {
      const stack = testStack();
      const role = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal(), path: '/ops/' });
      testCluster(stack, { adminRole: role });
      const { mapRoles } = awsAuth(Template.fromStack(stack));
      expect(mapRoles[0].rolearn).toMatch(/^arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:role\/\$\{Admin[0-9A-F]{8}\}$/);
    });

    test.each([
      ['neither', {}],
      ['both', { adminRole: 'role', adminPrincipal: new iam.AccountRootPrincipal() }],
    ])('%s of adminRole/adminPrincipal is an error that shows both options', (_, extra: any) => {
      const stack = testStack();
      const props: any = { version: eks.KubernetesVersion.V1_35, ...extra };
      if (props.adminRole) props.adminRole = iam.Role.fromRoleArn(stack, 'R', ADMIN_ARN);
      expect(() => new EksCluster(stack, 'Cluster', props)).toThrow(/Test\/Cluster: exactly one admin must be set.*adminRole.*adminPrincipal/);
    });

    test('AccountRootPrincipal as adminPrincipal gets a warning with a stable id', () => {
      const stack = testStack();
      testCluster(stack, { adminPrincipal: new iam.AccountRootPrincipal() });
      Annotations.fromStack(stack).hasWarning('/Test/Cluster', Match.stringLikeRegexp('AccountRootPrincipal.*cdk-eks-access:adminPrincipalIsAccountRoot'));
    });

    test('a specific adminPrincipal gets no warning', () => {
      const stack = testStack();
      testCluster(stack);
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    });
  });

  describe('kubectl layer', () => {
    test.each([
      [eks.KubernetesVersion.V1_28, '1.28'],
      [eks.KubernetesVersion.V1_27, '1.28'],
      [eks.KubernetesVersion.V1_29, '1.28'],
      [eks.KubernetesVersion.V1_35, '1.36'],
      [eks.KubernetesVersion.V1_36, '1.36'],
      [eks.KubernetesVersion.of('1.37'), '1.36'],
    ])('Kubernetes %s gets the kubectl %s layer by default', (version, kubectl) => {
      const stack = testStack();
      testCluster(stack, { version });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Lambda::LayerVersion', 1); // aws-eks's awscli layer is in its nested stack
      template.hasResourceProperties('AWS::Lambda::LayerVersion', {
        Description: Match.stringLikeRegexp(`^/opt/kubectl/kubectl ${kubectl.replace('.', '\\.')}`),
      });
    });

    test.each([
      [eks.KubernetesVersion.V1_31, '@aws-cdk/lambda-layer-kubectl-v31', 'KubectlV31Layer'],
      [eks.KubernetesVersion.V1_33, '@aws-cdk/lambda-layer-kubectl-v33', 'KubectlV33Layer'],
      [eks.KubernetesVersion.of('1.40'), '@aws-cdk/lambda-layer-kubectl-v40', 'KubectlV40Layer'],
    ])('Kubernetes %s without kubectlLayer names the package to install', (version, pkg, cls) => {
      const stack = testStack();
      expect(() => testCluster(stack, { version })).toThrow(new RegExp(`Test/Cluster: no default kubectl layer .*Install ${pkg} .*new ${cls}\\(this, 'KubectlLayer'\\)`));
    });

    test('a supplied layer is used as is', () => {
      const stack = testStack();
      const layer = lambda.LayerVersion.fromLayerVersionArn(stack, 'L', 'arn:aws:lambda:us-east-1:111122223333:layer:kubectl31:1');
      testCluster(stack, { version: eks.KubernetesVersion.V1_31, kubectlLayer: layer });
      const template = Template.fromStack(stack);
      // no bundled kubectl layer is created; the imported one is used
      template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    });

    test('versions EKS no longer creates get a warning', () => {
      const stack = testStack();
      testCluster(stack, { version: eks.KubernetesVersion.V1_28 });
      Annotations.fromStack(stack).hasWarning('/Test/Cluster', Match.stringLikeRegexp('EKS no longer creates.*cdk-eks-access:kubernetesVersionOutOfSupport'));
    });
  });

  describe('outputs', () => {
    test('admin role ARN and update-kubeconfig command by default', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      const outputs = Template.fromStack(stack).toJSON().Outputs;
      const adminId = stack.getLogicalId(cluster.adminRole.node.defaultChild as any);
      const clusterId = Object.keys(Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-Cluster'))[0];
      const values = Object.values(outputs).map((o: any) => flatten(o.Value));
      expect(values).toContain(`\${${adminId}.Arn}`);
      expect(values).toContain(`aws eks update-kubeconfig --name \${${clusterId}} --region \${AWS::Region} --role-arn \${${adminId}.Arn}`);
      // aws-eks's own config/token outputs are not emitted (mastersRole is not used)
      expect(Object.keys(outputs)).toHaveLength(2);
      expect(Object.values(outputs).every((o: any) => o.Export === undefined)).toBe(true);
    });

    test('can be turned off', () => {
      const stack = testStack();
      testCluster(stack, { outputAdminAccess: false });
      expect(Template.fromStack(stack).toJSON().Outputs ?? {}).toEqual({});
    });
  });

  describe('authentication modes', () => {
    const adminPolicy = {
      PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] },
      AccessScope: { Type: 'cluster' },
    };

    test('CONFIG_MAP (default): aws-auth entry, no access entry', () => {
      const stack = testStack();
      testCluster(stack);
      const template = Template.fromStack(stack);
      template.hasResourceProperties('Custom::AWSCDK-EKS-Cluster', { Config: Match.objectLike({ accessConfig: { authenticationMode: 'CONFIG_MAP' } }) });
      template.resourceCountIs('AWS::EKS::AccessEntry', 0);
      expect(awsAuth(template).mapRoles).toHaveLength(1);
    });

    test('API: access entry with AmazonEKSClusterAdminPolicy for the full role ARN, no aws-auth', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: eks.AuthenticationMode.API });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::EKS::AccessEntry', {
        PrincipalArn: { 'Fn::GetAtt': [stack.getLogicalId(cluster.adminRole.node.defaultChild as any), 'Arn'] },
        AccessPolicies: [adminPolicy],
      });
      expect(() => awsAuth(template)).toThrow(/found 0/);
    });

    test('API_AND_CONFIG_MAP: both, so a later switch to API keeps the admin', () => {
      const stack = testStack();
      const role = iam.Role.fromRoleArn(stack, 'Ops', 'arn:aws:iam::111122223333:role/platform/Ops');
      testCluster(stack, { adminRole: role, authenticationMode: eks.AuthenticationMode.API_AND_CONFIG_MAP });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::EKS::AccessEntry', {
        PrincipalArn: 'arn:aws:iam::111122223333:role/platform/Ops', // access entries take the ARN with its path
        AccessPolicies: [adminPolicy],
      });
      expect(awsAuth(template).mapRoles).toEqual([{ rolearn: 'arn:aws:iam::111122223333:role/Ops', username: 'role:Ops:{{SessionName}}', groups: ['system:masters'] }]);
    });

    test('API mode: a path-less SSO role ARN cannot become an access entry (synth error with the fix)', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: eks.AuthenticationMode.API });
      cluster.grantSsoPermissionSet('arn:aws:iam::111122223333:role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01', AccessLevel.clusterView());
      expect(() => Template.fromStack(stack)).toThrow(/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01 has no known full ARN.*aws-reserved\/sso.amazonaws.com/);
    });

    test.each([
      [eks.AuthenticationMode.API, 'CONFIG_MAP or API_AND_CONFIG_MAP'],
      [eks.AuthenticationMode.API_AND_CONFIG_MAP, 'CONFIG_MAP'],
    ])('%s warns that EKS cannot go back', (mode, back) => {
      const stack = testStack();
      testCluster(stack, { authenticationMode: mode });
      Annotations.fromStack(stack).hasWarning('/Test/Cluster', Match.stringLikeRegexp(`cannot switch this cluster back to ${back}.*cdk-eks-access:authenticationModeOneWay`));
    });
  });

  describe('several clusters', () => {
    test('two EksClusters in two stacks of one app synthesize without collisions', () => {
      const app: App = testApp();
      const a = new Stack(app, 'A');
      const b = new Stack(app, 'B');
      testCluster(a);
      testCluster(b);
      const assembly = app.synth();
      for (const name of ['A', 'B']) {
        const t = assembly.getStackByName(name).template;
        expect(Object.keys(t.Outputs)).toHaveLength(2);
        expect(JSON.stringify(t)).not.toMatch(/"(ClusterName|RoleName)":\s*"/); // no hard-coded physical names
      }
    });

    test('aws-eks allows one cluster per stack, and says so', () => {
      const stack = testStack();
      testCluster(stack, {}, 'One');
      expect(() => testCluster(stack, {}, 'Two')).toThrow(/Only a single EKS cluster/);
    });
  });
});
