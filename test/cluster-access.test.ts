import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { App, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, AccessPrincipal, BuiltInLevelBackend, ClusterAccess } from '../src';
import { mixedGrants } from './fixtures';
import { awsAuth, AwsAuthEntry, manifests, rbacObjects, testApp, testCluster, testStack } from './util';

const SSO_ARN = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01';
const SSO_MAPPED = 'arn:aws:iam::111122223333:role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01';

function entry(entries: AwsAuthEntry[], arn: string) {
  const found = entries.filter(e => (e.rolearn ?? e.userarn) === arn);
  expect(found).toHaveLength(1);
  return found[0];
}

/** The groups bound by generated bindings, with the rules they get (built-in ClusterRoles by name). */
function bindingsByGroup(objects: any[]) {
  const roles = new Map(objects.filter(o => o.kind === 'Role' || o.kind === 'ClusterRole').map(o => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
  const out = new Map<string, any[]>();
  for (const b of objects.filter(o => o.kind.endsWith('Binding'))) {
    const ns = b.roleRef.kind === 'Role' ? b.metadata.namespace : '';
    const role = roles.get(`${b.roleRef.kind}/${ns}/${b.roleRef.name}`);
    for (const s of b.subjects) {
      const list = out.get(s.name) ?? [];
      list.push({ binding: b.kind, namespace: b.metadata.namespace, roleRef: b.roleRef, rules: role?.rules ?? `built-in:${b.roleRef.name}` });
      out.set(s.name, list);
    }
  }
  return out;
}

describe('ClusterAccess', () => {
  describe('seed scenarios', () => {
    test('(a) another IAM role and an IAM user as system:masters', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grantRole(iam.Role.fromRoleArn(stack, 'Ops2', 'arn:aws:iam::111122223333:role/ops/SecondOps'), AccessLevel.clusterAdmin());
      cluster.grantUser(iam.User.fromUserArn(stack, 'Alice', 'arn:aws:iam::111122223333:user/admins/alice'), AccessLevel.clusterAdmin());
      const template = Template.fromStack(stack);
      const { mapRoles, mapUsers } = awsAuth(template);
      expect(entry(mapRoles, 'arn:aws:iam::111122223333:role/SecondOps')).toEqual({ rolearn: 'arn:aws:iam::111122223333:role/SecondOps', username: 'role:SecondOps:{{SessionName}}', groups: ['system:masters'] });
      expect(mapUsers).toEqual([{ userarn: 'arn:aws:iam::111122223333:user/admins/alice', username: 'user:alice', groups: ['system:masters'] }]);
      expect(mapRoles).toHaveLength(2); // + the admin role
      expect(rbacObjects(template)).toEqual([]); // system:masters needs no RBAC objects
    });

    test('(b) an SSO permission-set role with a regional path as cluster admin', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      const grant = cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.clusterAdmin());
      expect(grant.mappedArn).toBe(SSO_MAPPED);
      expect(grant.groups).toEqual(['system:masters']);
      expect(grant.username).toBe('sso:ViewOnlyAccess:{{SessionName}}');
      expect(entry(awsAuth(Template.fromStack(stack)).mapRoles, SSO_MAPPED).groups).toEqual(['system:masters']);
    });

    test('(c) the same SSO role as namespace reader of team-a via a RoleBinding to its group', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      const grant = cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('team-a'));
      const template = Template.fromStack(stack);
      const group = entry(awsAuth(template).mapRoles, SSO_MAPPED).groups;
      expect(group).toEqual(['cdk-eks-access:team-a:view']);
      const bound = bindingsByGroup(rbacObjects(template));
      expect(bound.get('cdk-eks-access:team-a:view')).toEqual([{ binding: 'RoleBinding', namespace: 'team-a', roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, rules: 'built-in:view' }]);
      expect(grant.kubernetesObjects).toHaveLength(1);
      // the namespace is created (when absent; never deleted) before the binding
      const namespaces = Object.entries(template.findResources('Custom::CdkEksAccessNamespaces'));
      expect(namespaces).toHaveLength(1);
      expect(namespaces[0][1].Properties.Namespaces).toEqual(['team-a']);
      const rbac = Object.values(template.findResources('Custom::CdkEksAccessRbac'));
      expect(rbac).toHaveLength(1);
      expect(rbac[0]).toMatchObject({ DependsOn: expect.arrayContaining([namespaces[0][0]]) });
    });
  });

  describe('one aws-auth entry per principal', () => {
    test('several grants merge: union of groups in a stable order', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('team-b'));
      cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceEdit('team-a'), { groups: ['platform:readers'] });
      cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('team-b'));
      expect(entry(awsAuth(Template.fromStack(stack)).mapRoles, SSO_MAPPED).groups)
        .toEqual(['cdk-eks-access:team-a:edit', 'cdk-eks-access:team-b:view', 'platform:readers']);
    });

    test('ARNs that differ only in case are one principal', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceView('a'));
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/teams/DEV'), AccessLevel.namespaceView('b'));
      const dev = awsAuth(Template.fromStack(stack)).mapRoles.filter(e => e.rolearn!.toLowerCase().endsWith('role/dev'));
      expect(dev).toEqual([{ rolearn: 'arn:aws:iam::111122223333:role/DEV', username: 'role:DEV:{{SessionName}}', groups: ['cdk-eks-access:a:view', 'cdk-eks-access:b:view'] }]);
    });

    test('two different usernames for one principal: an error naming both grants and the construct', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('a'), { username: 'alice' });
      expect(() => cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('b'), { username: 'bob' }))
        .toThrow(/^Test\/Cluster\/Cluster\/CdkEksAccess: the grant of namespace-view\(b\) to SSO permission set ViewOnlyAccess .* sets the username "bob" .* but the grant of namespace-view\(a\) to SSO permission set ViewOnlyAccess .* set "alice"/);
    });

    test('grants are named by level and principal, never by a number that counts the admin grant', () => {
      // GIVEN a cluster whose admin grant the user never wrote
      const stack = testStack();
      const cluster = testCluster(stack);
      const dev = AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev');
      // WHEN the user's second grant conflicts with their first
      const first = cluster.grant(dev, AccessLevel.namespaceView('a'), { username: 'alice' });
      let message = '';
      try {
        cluster.grant(dev, AccessLevel.namespaceEdit('b'), { username: 'bob' });
      } catch (e) {
        message = (e as Error).message;
      }
      // THEN both grants are named by level and principal, and nothing is numbered
      expect(first.description).toBe('the grant of namespace-view(a) to role arn:aws:iam::111122223333:role/Dev');
      expect(message).toContain('the grant of namespace-edit(b) to role arn:aws:iam::111122223333:role/Dev sets the username "bob"');
      expect(message).toContain('but the grant of namespace-view(a) to role arn:aws:iam::111122223333:role/Dev set "alice"');
      expect(message).not.toMatch(/#\d/);
    });

    test('the admin grant is named as EksCluster\'s own', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      const admin = ClusterAccess.of(cluster.cluster).grants[0];
      expect(admin.description).toBe('the admin grant of EksCluster Test/Cluster (cluster-admin to role Test/Cluster/AdminRole)');
    });

    test('an explicit username wins over the default, and the grant reports the merged one', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      const first = cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('a'));
      cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('b'), { username: 'viewer:{{SessionName}}' });
      expect(first.username).toBe('viewer:{{SessionName}}');
      expect(entry(awsAuth(Template.fromStack(stack)).mapRoles, SSO_MAPPED).username).toBe('viewer:{{SessionName}}');
    });

    test('granting the admin role again merges into its entry', () => {
      const stack = testStack();
      const admin = iam.Role.fromRoleArn(stack, 'Admin', 'arn:aws:iam::111122223333:role/x/Admin');
      const cluster = testCluster(stack, { adminRole: admin });
      cluster.grantRole(admin, AccessLevel.namespaceView('a'));
      expect(awsAuth(Template.fromStack(stack)).mapRoles).toEqual([
        { rolearn: 'arn:aws:iam::111122223333:role/Admin', username: 'role:Admin:{{SessionName}}', groups: ['cdk-eks-access:a:view', 'system:masters'] },
      ]);
    });

    test('a role granted by object and by an ARN token that resolve to the same ARN is an error', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grant(AccessPrincipal.fromRoleName('Dev', { account: '111122223333', partition: 'aws' }), AccessLevel.clusterView());
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/dev'), AccessLevel.clusterView());
      // literal ARNs merge at grant time: no error, one entry
      expect(awsAuth(Template.fromStack(stack)).mapRoles.filter(e => e.rolearn!.toLowerCase().endsWith('role/dev'))).toHaveLength(1);
    });
  });

  describe('node roles and aws-eks mappings', () => {
    const NODE = { username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:bootstrappers', 'system:nodes'] };
    const pathless = (stack: Stack, role: iam.IRole) => `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/\${${stack.getLogicalId(role.node.defaultChild as iam.CfnRole)}}`;

    test('node group, Fargate and user mappings are written by the one reconciler, next to the grants; aws-eks\'s manifest no longer writes aws-auth', () => {
      // GIVEN
      const stack = testStack();
      const cluster = testCluster(stack);
      const nodegroup = cluster.cluster.addNodegroupCapacity('Nodes', { minSize: 1 });
      const fargate = cluster.cluster.addFargateProfile('Pods', { selectors: [{ namespace: 'serverless' }] });
      cluster.cluster.awsAuth.addRoleMapping(iam.Role.fromRoleArn(stack, 'Ci', 'arn:aws:iam::111122223333:role/ci/Deployer'), { username: 'ci', groups: ['deployers'] });
      cluster.cluster.awsAuth.addUserMapping(iam.User.fromUserArn(stack, 'Bob', 'arn:aws:iam::111122223333:user/people/bob'), { groups: ['ops'] });

      // WHEN
      cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.clusterView());
      const template = Template.fromStack(stack);

      // THEN
      const { mapRoles, mapUsers } = awsAuth(template);
      expect(mapRoles.slice(0, 3)).toEqual([
        { rolearn: pathless(stack, nodegroup.role), ...NODE },
        { rolearn: pathless(stack, fargate.podExecutionRole), username: 'system:node:{{SessionName}}', groups: ['system:bootstrappers', 'system:nodes', 'system:node-proxier'] },
        // path stripped, which aws-eks does not do
        { rolearn: 'arn:aws:iam::111122223333:role/Deployer', username: 'ci', groups: ['deployers'] },
      ]);
      expect(mapRoles.map(e => e.groups[0])).toEqual(['system:bootstrappers', 'system:bootstrappers', 'deployers', 'system:masters', 'cdk-eks-access:cluster-view']);
      expect(mapUsers).toEqual([{ userarn: 'arn:aws:iam::111122223333:user/people/bob', username: 'arn:aws:iam::111122223333:user/people/bob', groups: ['ops'] }]);
      // EKS writes these roles into aws-auth itself: the reconciler writes after it
      const awsAuthResource = Object.values(template.findResources('Custom::CdkEksAccessAwsAuth'))[0];
      const logicalId = (c: any) => stack.getLogicalId(c.node.defaultChild);
      expect(awsAuthResource.DependsOn).toEqual(expect.arrayContaining([logicalId(nodegroup), stack.getLogicalId(fargate.node.findChild('Resource').node.defaultChild as any)]));
      // aws-eks's aws-auth manifest stays under its logical id, neutralized: a placeholder
      // ConfigMap, no prune, retained (so upgrading a deployed stack never deletes aws-auth)
      const kubectl = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
      expect(kubectl.map(([id]) => id)).toEqual([stack.getLogicalId(cluster.cluster.node.findChild('AwsAuth').node.findChild('manifest').node.defaultChild as any)]);
      const [, handover] = kubectl[0];
      expect(handover).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { Overwrite: true } });
      expect(handover.Properties.PruneLabel).toBeUndefined();
      expect(JSON.parse(handover.Properties.Manifest)).toEqual([expect.objectContaining({ kind: 'ConfigMap', metadata: expect.objectContaining({ name: 'cdk-eks-access-aws-auth-handover', namespace: 'kube-system' }) })]);
    });

    test('without aws-eks pruning there is no prune label to take former entries over by', () => {
      const stack = testStack();
      testCluster(stack, { prune: false });
      Template.fromStack(stack).hasResourceProperties('Custom::CdkEksAccessAwsAuth', { LegacyPruneLabel: Match.absent() });
      const pruning = testStack();
      testCluster(pruning);
      Template.fromStack(pruning).hasResourceProperties('Custom::CdkEksAccessAwsAuth', { LegacyPruneLabel: Match.stringLikeRegexp('^aws\\.cdk\\.eks/prune-[0-9a-f]{42}$') });
    });

    test('capacity added before ClusterAccess exists (EksCluster default capacity) is absorbed too', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { defaultCapacity: 2 });
      const { mapRoles } = awsAuth(Template.fromStack(stack));
      expect(mapRoles[0]).toEqual({ rolearn: pathless(stack, cluster.cluster.defaultNodegroup!.role), ...NODE });
      expect(mapRoles).toHaveLength(2);
    });

    test('mastersRole of a plain eks.Cluster is written path-less; one role in two node groups is one entry', () => {
      const stack = testStack();
      const masters = iam.Role.fromRoleArn(stack, 'Masters', 'arn:aws:iam::111122223333:role/admins/Masters');
      const cluster = new eks.Cluster(stack, 'Plain', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV36Layer(stack, 'L'), defaultCapacity: 0, mastersRole: masters });
      const nodeRole = new iam.Role(stack, 'NodeRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      cluster.addNodegroupCapacity('A', { nodeRole });
      cluster.addNodegroupCapacity('B', { nodeRole });
      ClusterAccess.of(cluster);
      expect(awsAuth(Template.fromStack(stack)).mapRoles).toEqual([
        { rolearn: 'arn:aws:iam::111122223333:role/Masters', username: 'arn:aws:iam::111122223333:role/Masters', groups: ['system:masters'] },
        { rolearn: pathless(stack, nodeRole), ...NODE },
      ]);
    });

    test('the same role mapped twice with different groups, and addAccount, are refused with the fix', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      const role = iam.Role.fromRoleArn(stack, 'R', 'arn:aws:iam::111122223333:role/R');
      cluster.cluster.awsAuth.addRoleMapping(role, { groups: ['a'] });
      expect(() => cluster.cluster.awsAuth.addRoleMapping(role, { groups: ['b'] })).toThrow(/one principal has one aws-auth entry. Map it once/);
      expect(() => cluster.cluster.awsAuth.addAccount('444455556666')).toThrow(/Test\/Cluster\/Cluster: cluster.awsAuth.addAccount\("444455556666"\): cdk-eks-access writes aws-auth for this cluster and does not write mapAccounts/);
    });

    describe('Windows node groups', () => {
      const WINDOWS = ['system:bootstrappers', 'system:nodes', 'eks:kube-proxy-windows'];

      test.each([
        eks.NodegroupAmiType.WINDOWS_CORE_2019_X86_64,
        eks.NodegroupAmiType.WINDOWS_FULL_2019_X86_64,
        eks.NodegroupAmiType.WINDOWS_CORE_2022_X86_64,
        eks.NodegroupAmiType.WINDOWS_FULL_2022_X86_64,
      ])('a %s node group\'s role is written with the groups EKS gives it, eks:kube-proxy-windows included', (amiType) => {
        // GIVEN
        const stack = testStack();
        const cluster = testCluster(stack);
        const windows = cluster.cluster.addNodegroupCapacity('Win', { minSize: 1, amiType });
        const linux = cluster.cluster.addNodegroupCapacity('Linux', { minSize: 1 });

        // WHEN
        const { mapRoles } = awsAuth(Template.fromStack(stack));

        // THEN
        expect(mapRoles.slice(0, 2)).toEqual([
          { rolearn: pathless(stack, windows.role), username: NODE.username, groups: WINDOWS },
          { rolearn: pathless(stack, linux.role), ...NODE },
        ]);
      });

      test('the aws-eks workaround (mapping the node role again with eks:kube-proxy-windows) is accepted: one entry with the three groups', () => {
        // GIVEN: a Windows node group, and a node group with a Windows custom AMI in a launch template (no amiType)
        const stack = testStack();
        const cluster = testCluster(stack);
        const windows = cluster.cluster.addNodegroupCapacity('Win', { minSize: 1, amiType: eks.NodegroupAmiType.WINDOWS_CORE_2022_X86_64 });
        const custom = cluster.cluster.addNodegroupCapacity('Custom', { minSize: 1 });
        // a role mapped by hand before its node group maps it
        const early = new iam.Role(stack, 'EarlyRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });

        // WHEN
        for (const role of [windows.role, custom.role, early]) {
          cluster.cluster.awsAuth.addRoleMapping(role, { username: NODE.username, groups: ['eks:kube-proxy-windows', 'system:bootstrappers', 'system:nodes'] });
        }
        cluster.cluster.addNodegroupCapacity('Early', { minSize: 1, nodeRole: early });
        const { mapRoles } = awsAuth(Template.fromStack(stack));

        // THEN
        expect(mapRoles.slice(0, 3)).toEqual([
          { rolearn: pathless(stack, windows.role), username: NODE.username, groups: WINDOWS },
          { rolearn: pathless(stack, custom.role), username: NODE.username, groups: WINDOWS },
          { rolearn: pathless(stack, early), username: NODE.username, groups: ['eks:kube-proxy-windows', 'system:bootstrappers', 'system:nodes'] },
        ]);
        expect(mapRoles.filter(e => e.username === NODE.username)).toHaveLength(3);
      });

      test.each([
        ['eks:kube-proxy-windows outside a node mapping', (c: eks.Cluster, stack: Stack) => c.awsAuth.addRoleMapping(iam.Role.fromRoleArn(stack, 'R', 'arn:aws:iam::111122223333:role/R'), { username: 'ops', groups: ['eks:kube-proxy-windows'] }), '"eks:kube-proxy-windows"'],
        ['another eks: group in a node mapping', (c: eks.Cluster, stack: Stack) => c.awsAuth.addRoleMapping(iam.Role.fromRoleArn(stack, 'R', 'arn:aws:iam::111122223333:role/R'), { username: NODE.username, groups: ['system:nodes', 'eks:podidentity'] }), '"eks:podidentity"'],
        ['an eks: group for a user', (c: eks.Cluster, stack: Stack) => c.awsAuth.addUserMapping(iam.User.fromUserArn(stack, 'U', 'arn:aws:iam::111122223333:user/u'), { groups: ['EKS:admins'] }), '"EKS:admins"'],
      ])('%s is refused with the reason and the fix', (_, map, group) => {
        const stack = testStack();
        const cluster = testCluster(stack);
        expect(() => map(cluster.cluster, stack)).toThrow(new RegExp(`^Test/Cluster/Cluster/CdkEksAccess: \\[cdk-eks-access:reservedEksGroupInAwsAuthMapping\\] awsAuth\\.add(Role|User)Mapping\\(Test/[RU]\\) maps Test/[RU] to the group ${group}.*Use a group name without the "eks:" prefix\\.$`));
      });
    });

    test('granting a node role again is a synth error (it would be a second entry for one ARN)', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      const nodegroup = cluster.cluster.addNodegroupCapacity('Nodes', { minSize: 1 });
      cluster.grantRole(nodegroup.role, AccessLevel.clusterView());
      expect(() => Template.fromStack(stack)).toThrow(/Nodes\/NodeGroupRole .* is already mapped in aws-auth by aws-eks/);
    });
  });

  describe('the reconciler', () => {
    test('a retained cluster keeps its aws-auth entries and RBAC objects on stack delete (the admin is never removed)', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { removalPolicy: RemovalPolicy.RETAIN });
      cluster.grantRole(iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceView('apps'));
      const template = Template.fromStack(stack);
      for (const type of ['Custom::CdkEksAccessAwsAuth', 'Custom::CdkEksAccessRbac', 'Custom::CdkEksAccessNamespaces']) {
        const found = Object.values(template.findResources(type));
        expect(found.length).toBeGreaterThan(0);
        for (const r of found) expect(r).toMatchObject({ DeletionPolicy: 'Retain' });
      }
    });

    test('a cluster deleted with the stack: the reconciler resources delete (their entries and objects go first)', () => {
      const stack = testStack();
      testCluster(stack);
      const aws = Object.values(Template.fromStack(stack).findResources('Custom::CdkEksAccessAwsAuth'))[0];
      expect(aws.DeletionPolicy).toBe('Delete');
    });

    test('its handler may assume the kubectl role (trusted) and describe the cluster, and nothing more', () => {
      const stack = testStack();
      testCluster(stack, { endpointAccess: eks.EndpointAccess.PUBLIC });
      const template = Template.fromStack(stack);
      const handlers = template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler', Description: Match.stringLikeRegexp('cdk-eks-access: writes aws-auth') } });
      expect(Object.keys(handlers)).toHaveLength(1);
      const roleId = Object.values(handlers)[0].Properties.Role['Fn::GetAtt'][0];
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: roleId }],
        PolicyDocument: {
          Statement: [
            { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReconcilerLogs'), 'Arn'] } },
            { Action: 'sts:AssumeRole', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ClusterCreationRole'), 'Arn'] } },
            { Action: 'eks:DescribeCluster', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('Cluster'), 'Arn'] } },
            // the stack's status (a stack delete or a rollback's cleanup) and its resources (live owners), of this stack only
            { Action: ['cloudformation:DescribeStacks', 'cloudformation:ListStackResources'], Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
          ],
        },
      });
      const creation = Object.values(template.findResources('AWS::IAM::Role')).find(r => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes(roleId));
      expect(creation).toBeDefined();
      // no VPC for a public-only endpoint (aws-eks's kubectl handler is placed the same way)
      expect(Object.values(handlers)[0].Properties.VpcConfig).toBeUndefined();
    });

    test.each([
      ['PRIVATE', eks.EndpointAccess.PRIVATE],
      ['PUBLIC_AND_PRIVATE (the default)', eks.EndpointAccess.PUBLIC_AND_PRIVATE],
    ])('with a %s endpoint it runs in the kubectl subnets with the kubectl security group', (_, endpointAccess) => {
      const stack = testStack();
      const cluster = testCluster(stack, { endpointAccess });
      const template = Template.fromStack(stack);
      const handler = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('cdk-eks-access: writes aws-auth') } }))[0];
      const subnetIds = stack.resolve(cluster.cluster.kubectlPrivateSubnets!.map(s => s.subnetId));
      expect(handler.Properties.VpcConfig.SubnetIds).toEqual(subnetIds);
      expect(handler.Properties.VpcConfig.SecurityGroupIds).toEqual([stack.resolve(cluster.cluster.kubectlSecurityGroup!.securityGroupId)]);
    });
  });

  describe('imported clusters', () => {
    const attributes = { clusterName: 'prod', kubectlRoleArn: 'arn:aws:iam::111122223333:role/KubectlAdmin' };

    test('an imported cluster with a kubectl role: the endpoint and CA are left to eks:DescribeCluster at deploy time', () => {
      // GIVEN
      const stack = testStack();
      const imported = eks.Cluster.fromClusterAttributes(stack, 'Imported', attributes);

      // WHEN
      ClusterAccess.of(imported).grantRole(iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceEdit('apps'));
      const template = Template.fromStack(stack);

      // THEN
      template.hasResourceProperties('Custom::CdkEksAccessAwsAuth', {
        ClusterName: 'prod',
        RoleArn: attributes.kubectlRoleArn,
        Endpoint: Match.absent(),
        CertificateAuthorityData: Match.absent(),
        MapRoles: [{ rolearn: 'arn:aws:iam::111122223333:role/Dev', username: 'role:Dev:{{SessionName}}', groups: ['cdk-eks-access:apps:edit'] }],
        MapUsers: [],
      });
      template.hasResourceProperties('Custom::CdkEksAccessNamespaces', { ClusterName: 'prod', Namespaces: ['apps'] });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Action: 'sts:AssumeRole', Effect: 'Allow', Resource: attributes.kubectlRoleArn },
            { Action: 'eks:DescribeCluster', Effect: 'Allow', Resource: { 'Fn::Join': ['', Match.arrayWith([':cluster/prod'])] } },
          ]),
        },
      });
      const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('kubectl role of the imported cluster'));
      expect(warnings).toHaveLength(1);
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('authentication mode of the imported cluster .* is unknown'))).toHaveLength(1);
    });

    test('endpoint and CA given in the import are not passed on: the handler asks EKS for them on every event', () => {
      const stack = testStack();
      const imported = eks.Cluster.fromClusterAttributes(stack, 'Imported', { ...attributes, clusterEndpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', clusterCertificateAuthorityData: 'Q0E=' });
      ClusterAccess.of(imported);
      Template.fromStack(stack).hasResourceProperties('Custom::CdkEksAccessAwsAuth', { Endpoint: Match.absent(), CertificateAuthorityData: Match.absent() });
    });

    test('an imported cluster without a kubectl role is refused with the fix', () => {
      const stack = testStack();
      const imported = eks.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'prod' });
      expect(() => ClusterAccess.of(imported)).toThrow(/Test\/Imported\/CdkEksAccess\/Reconciler: the cluster Test\/Imported has no kubectl role.*kubectlRoleArn/);
    });

    test('an imported cluster with private kubectl subnets needs its VPC', () => {
      const stack = testStack();
      const imported = eks.Cluster.fromClusterAttributes(stack, 'Imported', { ...attributes, kubectlPrivateSubnetIds: ['subnet-1'], kubectlSecurityGroupId: 'sg-1' });
      expect(() => ClusterAccess.of(imported)).toThrow(/has kubectl private subnets but no VPC/);
    });
  });

  describe('any aws-eks cluster', () => {
    test('ClusterAccess.of works on a plain eks.Cluster and is one per cluster', () => {
      const stack = testStack();
      const cluster = new eks.Cluster(stack, 'Plain', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV36Layer(stack, 'L'), defaultCapacity: 0 });
      expect(ClusterAccess.of(cluster)).toBe(ClusterAccess.of(cluster));
      ClusterAccess.of(cluster).grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('team-a'));
      expect(awsAuth(Template.fromStack(stack)).mapRoles).toEqual([{ rolearn: SSO_MAPPED, username: 'sso:ViewOnlyAccess:{{SessionName}}', groups: ['cdk-eks-access:team-a:view'] }]);
    });

    test('a dependency on cluster.awsAuth (the aws-eks idiom) waits for the library\'s aws-auth write', () => {
      // GIVEN
      const stack = testStack();
      const cluster = new eks.Cluster(stack, 'Plain', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV36Layer(stack, 'L'), defaultCapacity: 0 });
      ClusterAccess.of(cluster).grantRole(iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceView('team-a'));

      // WHEN: something that needs the mappings in place (a chart, a manifest)
      const chart = cluster.addManifest('NeedsNodes', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } });
      chart.node.addDependency(cluster.awsAuth);

      // THEN
      const template = Template.fromStack(stack);
      const awsAuthId = awsAuth(template).logicalId;
      const [chartResource] = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource', { Properties: { Manifest: Match.stringLikeRegexp('"name":"x"') } }));
      expect(chartResource.DependsOn).toContain(awsAuthId);
    });

    const withoutCreatorAdmin = (stack: Stack, authenticationMode: eks.AuthenticationMode) => new eks.Cluster(stack, 'Plain', {
      version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV36Layer(stack, 'L'), defaultCapacity: 0, authenticationMode, bootstrapClusterCreatorAdminPermissions: false,
    });

    test.each([eks.AuthenticationMode.API_AND_CONFIG_MAP, eks.AuthenticationMode.API])(
      'bootstrapClusterCreatorAdminPermissions false in %s: the role the reconciler signs in as gets a cluster-admin access entry every reconciler resource depends on', (mode) => {
        // GIVEN
        const stack = testStack();
        const cluster = withoutCreatorAdmin(stack, mode);

        // WHEN
        ClusterAccess.of(cluster, { builtInLevelBackend: BuiltInLevelBackend.RBAC }).grantRole(iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceView('team-a'));
        const template = Template.fromStack(stack);

        // THEN
        const entries = template.findResources('AWS::EKS::AccessEntry', { Properties: { PrincipalArn: { 'Fn::GetAtt': [stack.getLogicalId(cluster.adminRole.node.defaultChild as iam.CfnRole), 'Arn'] } } });
        expect(Object.values(entries).map(e => e.Properties.AccessPolicies)).toEqual([[{
          PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] },
          AccessScope: { Type: 'cluster' },
        }]]);
        const reconcilerResources = { ...template.findResources('Custom::CdkEksAccessRbac'), ...template.findResources('Custom::CdkEksAccessNamespaces') };
        expect(Object.keys(reconcilerResources).length).toBeGreaterThan(0);
        for (const r of Object.values(reconcilerResources)) expect(r.DependsOn).toEqual(expect.arrayContaining(Object.keys(entries)));
      });

    test('bootstrapClusterCreatorAdminPermissions false in CONFIG_MAP is refused with EKS\'s reason', () => {
      const stack = testStack();
      const cluster = withoutCreatorAdmin(stack, eks.AuthenticationMode.CONFIG_MAP);
      expect(() => ClusterAccess.of(cluster).grantRole(iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceView('team-a')))
        .toThrow(/^Test\/Plain: \[cdk-eks-access:configMapClusterWithoutCreatorAdmin\] bootstrapClusterCreatorAdminPermissions is false and the authentication mode is CONFIG_MAP: EKS refuses .*must be true if cluster authentication mode is set to CONFIG_MAP.*Remove bootstrapClusterCreatorAdminPermissions/);
    });

    test('bootstrapClusterCreatorAdminPermissions false: a second access entry for the creation role is refused at synth', () => {
      const stack = testStack();
      const cluster = withoutCreatorAdmin(stack, eks.AuthenticationMode.API_AND_CONFIG_MAP);
      ClusterAccess.of(cluster, { builtInLevelBackend: BuiltInLevelBackend.RBAC }).grantRole(iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceView('team-a'));
      cluster.grantAccess('Creator', cluster.adminRole.roleArn, [eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', { accessScopeType: eks.AccessScopeType.CLUSTER })]);
      expect(() => Template.fromStack(stack)).toThrow(/\[cdk-eks-access:principalAlreadyHasAccessEntry\] Test\/Plain\/Creator\/Resource is a second access entry for Test\/Plain\/Resource\/CreationRole .*Remove that grant/);
    });
  });

  describe('principals of other stacks', () => {
    test('a role created in another stack works without a cycle (the cluster stack depends on it)', () => {
      const app: App = testApp();
      const roles = new Stack(app, 'Roles');
      const role = new iam.Role(roles, 'Dev', { assumedBy: new iam.AccountRootPrincipal(), path: '/dev/' });
      const clusterStack = new Stack(app, 'ClusterStack');
      const cluster = testCluster(clusterStack);
      cluster.grantRole(role, AccessLevel.namespaceView('dev'));
      const assembly = app.synth();
      expect(assembly.getStackByName('ClusterStack').dependencies.map(d => d.id)).toContain('Roles');
      const { mapRoles } = awsAuth(Template.fromStack(clusterStack));
      expect(mapRoles.some(e => /role\/\$\{Import:Roles:ExportsOutputRefDev/.test(e.rolearn!))).toBe(true);
    });
  });

  describe('warnings', () => {
    test('a principal of another partition than the cluster gets a warning with a stable id', () => {
      const stack = new Stack(testApp(), 'Cn', { env: { region: 'cn-north-1', account: '111122223333' } });
      const cluster = testCluster(stack, { vpc: undefined });
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.clusterView());
      Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('partition "aws" but the cluster is in "aws-cn".*cdk-eks-access:crossPartitionPrincipal'));
    });
  });

  describe('RBAC', () => {
    test('every derived group is bound with exactly the intended rules, and every binding names a mapped group', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      const grants = mixedGrants(60).map(g => cluster.grant(g.principal, g.level, g.options));
      const template = Template.fromStack(stack);
      const { mapRoles, mapUsers } = awsAuth(template);
      const mapped = new Set([...mapRoles, ...mapUsers].flatMap(e => e.groups));
      const bound = bindingsByGroup(rbacObjects(template));
      for (const grant of grants) {
        const bindings = bound.get(grant.level.group)!;
        expect(bindings).toHaveLength(1);
        if (grant.level.name === 'custom') expect(bindings[0].rules).toEqual(grant.level.rules);
        else expect(bindings[0].rules).toBe(`built-in:${grant.level.name.replace(/^(namespace|cluster)-/, '')}`);
        expect(bindings[0].namespace).toBe(grant.level.namespaceName);
      }
      for (const group of bound.keys()) expect(mapped.has(group)).toBe(true);
      for (const group of mapped) if (!group.startsWith('system:')) expect(bound.has(group)).toBe(true);
    });

    test('no namespace resource for built-in namespaces', () => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('kube-system'));
      cluster.grantSsoPermissionSet(SSO_ARN, AccessLevel.namespaceView('default'));
      const all = Object.values(manifests(Template.fromStack(stack))).flat();
      expect(all.filter(o => o.kind === 'Namespace')).toEqual([]);
      expect(all.filter(o => o.kind === 'RoleBinding').map(o => o.metadata.namespace).sort()).toEqual(['default', 'kube-system']);
    });
  });

  describe('determinism and scale', () => {
    function synth(specs: ReturnType<typeof mixedGrants>) {
      const stack = testStack();
      const cluster = testCluster(stack);
      for (const g of specs) cluster.grant(g.principal, g.level, g.options);
      return Template.fromStack(stack).toJSON();
    }

    test('the same grants in any order give a byte-identical template', () => {
      const specs = mixedGrants(80);
      const reversed = [...specs].reverse();
      const shuffled = [...specs].sort((a, b) => (a.level.group + a.principal.description < b.level.group + b.principal.description ? -1 : 1));
      const base = JSON.stringify(synth(specs));
      // compare with a short message (the templates are large)
      expect(JSON.stringify(synth(reversed)) === base).toBe(true);
      expect(JSON.stringify(synth(shuffled)) === base).toBe(true);
    });

    describe('400 grants', () => {
      const specs = mixedGrants(400);
      const template = synth(specs);
      const custom = Object.entries(template.Resources).filter(([, r]: any) => r.Type.startsWith('Custom::CdkEksAccess'));

      test('fit the budget: <= 500 resources, < 1,000,000 bytes, <= 4 RBAC custom resources', () => {
        expect(Object.keys(template.Resources).length).toBeLessThanOrEqual(500);
        expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThan(1_000_000);
        const rbac = custom.filter(([, r]: any) => r.Type === 'Custom::CdkEksAccessRbac');
        expect(rbac.length).toBeGreaterThanOrEqual(1);
        expect(rbac.length).toBeLessThanOrEqual(4);
      });

      test('every custom resource stays under 120,000 bytes of properties', () => {
        expect(custom.length).toBeGreaterThanOrEqual(3);
        for (const [, r] of custom as any) expect(Buffer.byteLength(JSON.stringify(r.Properties))).toBeLessThan(120_000);
      });

      function changedCustomResources(a: any, b: any) {
        const ids = new Set([...Object.keys(a.Resources), ...Object.keys(b.Resources)]);
        return Array.from(ids).filter(id => (a.Resources[id]?.Type ?? b.Resources[id]?.Type).startsWith('Custom::CdkEksAccess')
          && JSON.stringify(a.Resources[id]) !== JSON.stringify(b.Resources[id]));
      }

      test.each([
        ['adding one grant', 2, () => [...specs, ...mixedGrants(401).slice(400)]],
        ['removing one grant', 2, () => specs.filter((_, i) => i !== 137)],
        ['changing one grant', 3, () => specs.map((g, i) => (i === 58 ? { ...g, level: AccessLevel.custom({ namespaceName: g.level.namespaceName ?? 'team-18', rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] }] }) } : g))],
      ])('%s changes at most %d custom resources', (_, max, make) => {
        const changed = changedCustomResources(template, synth((make as () => any)()));
        expect(changed.length).toBeGreaterThanOrEqual(1);
        if (changed.length > max) throw new Error(`changed: ${changed.join(', ')}`);
      });
    });
  });

  describe('validation', () => {
    const KUBECTL_ROLE_ARN = 'arn:aws:iam::111122223333:role/KubectlAdmin';
    const importOf = (stack: Stack, id: string, clusterName: string) =>
      eks.Cluster.fromClusterAttributes(stack, id, { clusterName, kubectlRoleArn: KUBECTL_ROLE_ARN });
    const dev = (stack: Stack) => iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/Dev');

    test('two imports of one cluster name, each with a ClusterAccess, are a synth error naming both and the fix', () => {
      // GIVEN
      const stack = testStack();
      ClusterAccess.of(importOf(stack, 'A', 'c')).grantRole(dev(stack), AccessLevel.clusterView());
      ClusterAccess.of(importOf(stack, 'B', 'c'));

      // THEN: reported once, by the later one
      expect(() => Template.fromStack(stack)).toThrow(
        /\[cdk-eks-access:twoClusterAccessForOneCluster\] Test\/B\/CdkEksAccess and Test\/A\/CdkEksAccess both write the access of the cluster "c" \(the constructs Test\/B and Test\/A name the same cluster\).*Use one ClusterAccess per cluster: import the cluster once/);
      try {
        Template.fromStack(stack);
      } catch (e) {
        expect((e as Error).message.match(/twoClusterAccessForOneCluster/g)).toHaveLength(1);
      }
    });

    test('an import of a cluster the stack creates (by its literal name, or by its clusterName token) is a synth error', () => {
      const byName = testStack();
      const created = new eks.Cluster(byName, 'Prod', {
        clusterName: 'prod', version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV36Layer(byName, 'L'), defaultCapacity: 0,
      });
      ClusterAccess.of(created);
      ClusterAccess.of(importOf(byName, 'Again', 'prod'));
      expect(() => Template.fromStack(byName)).toThrow(/Test\/Again\/CdkEksAccess and Test\/Prod\/CdkEksAccess both write the access of the cluster/);

      const byToken = testStack();
      const cluster = testCluster(byToken);
      ClusterAccess.of(importOf(byToken, 'Again', cluster.cluster.clusterName));
      expect(() => Template.fromStack(byToken)).toThrow(/Test\/Again\/CdkEksAccess and Test\/Cluster\/Cluster\/CdkEksAccess both write the access of the cluster \{"Ref":"Cluster/);
    });

    test('one cluster construct gives one ClusterAccess; different clusters, and names that only the deploy can tell apart, are not refused', () => {
      // GIVEN
      const stack = testStack();
      const a = importOf(stack, 'A', 'a');
      expect(ClusterAccess.of(a)).toBe(ClusterAccess.of(a));
      ClusterAccess.of(importOf(stack, 'B', 'b'));
      // two parameters may hold the same name at deploy time: that cannot be known at synth
      ClusterAccess.of(importOf(stack, 'P1', new CfnParameter(stack, 'Name1').valueAsString));
      ClusterAccess.of(importOf(stack, 'P2', new CfnParameter(stack, 'Name2').valueAsString));
      // the same cluster in another stack is another stack's writer (not checked here)
      ClusterAccess.of(importOf(new Stack(stack.node.root as App, 'Other'), 'A', 'a'));

      // THEN
      expect(() => Template.fromStack(stack)).not.toThrow();
    });
  });
});
