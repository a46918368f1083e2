import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Stack } from 'aws-cdk-lib/core';
import { AccessLevel, AccessPrincipal, BuiltInLevelBackend, ClusterAccess } from '../src';
import { awsAuth, rbacObjects, testCluster, testStack } from './util';

const SSO = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01';
const CUSTOM = AccessLevel.custom({ namespaceName: 'apps', rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }] });

/** An aws-eks-v2 cluster without the creator's bootstrap admin, with an admin (aws-eks-v2's mastersRole) unless `admin` is false. */
function v2Cluster(stack: Stack, props: Partial<eksv2.ClusterProps> = {}, admin = true): eksv2.Cluster {
  const mastersRole = admin ? new iam.Role(stack, 'Masters', { assumedBy: new iam.AccountRootPrincipal() }) : undefined;
  return new eksv2.Cluster(stack, 'V2', { version: eksv2.KubernetesVersion.V1_35, bootstrapClusterCreatorAdminPermissions: false, mastersRole, ...props });
}

function policy(name: string) {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:eks::aws:cluster-access-policy/${name}`]] };
}

function entryFor(template: Template, principalArn: unknown): any {
  const found = Object.values(template.findResources('AWS::EKS::AccessEntry')).map(r => r.Properties)
    .filter(e => JSON.stringify(e.PrincipalArn) === JSON.stringify(principalArn));
  expect(found).toHaveLength(1);
  return found[0];
}

function count(template: Template, type: string): number {
  return Object.keys(template.findResources(type)).length;
}

describe('aws-eks-v2 clusters', () => {
  test('built-in levels only: access policies, one entry per principal, no Lambda and no custom resource', () => {
    const stack = testStack();
    const access = ClusterAccess.ofV2(v2Cluster(stack, {}, false));
    const dev = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    const grants = [
      access.grantRole(dev, AccessLevel.namespaceView('team-b')),
      access.grantRole(dev, AccessLevel.namespaceView('team-a')),
      access.grantRole(dev, AccessLevel.namespaceView('dev-*')),
      access.grantRole(dev, AccessLevel.namespaceEdit('team-a')),
      access.grantRole(dev, AccessLevel.namespaceAdmin('team-c')),
    ];
    access.grantSsoPermissionSet(SSO, AccessLevel.namespaceView('team-a'));
    access.grantSsoPermissionSet(SSO, AccessLevel.clusterView()); // cluster scope wins over the namespace
    access.grant(AccessPrincipal.fromUserArn('arn:aws:iam::111122223333:user/ops/bob'), AccessLevel.clusterAdmin());
    const template = Template.fromStack(stack);

    expect(entryFor(template, { 'Fn::GetAtt': [stack.getLogicalId(dev.node.defaultChild as iam.CfnRole), 'Arn'] })).toEqual({
      ClusterName: { Ref: stack.getLogicalId(access.clusterV2!.node.defaultChild as eks.CfnCluster) },
      PrincipalArn: expect.anything(),
      Username: expect.anything(),
      AccessPolicies: [
        { PolicyArn: policy('AmazonEKSAdminPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['team-c'] } },
        { PolicyArn: policy('AmazonEKSEditPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['team-a'] } },
        { PolicyArn: policy('AmazonEKSViewPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['dev-*', 'team-a', 'team-b'] } },
      ],
      Type: 'STANDARD',
    });
    expect(entryFor(template, SSO)).toEqual({
      ClusterName: expect.anything(),
      PrincipalArn: SSO,
      Username: 'sso:ViewOnlyAccess:{{SessionName}}',
      AccessPolicies: [{ PolicyArn: policy('AmazonEKSViewPolicy'), AccessScope: { Type: 'cluster' } }],
      Type: 'STANDARD',
    });
    expect(entryFor(template, 'arn:aws:iam::111122223333:user/ops/bob').AccessPolicies)
      .toEqual([{ PolicyArn: policy('AmazonEKSClusterAdminPolicy'), AccessScope: { Type: 'cluster' } }]);
    expect(count(template, 'AWS::EKS::AccessEntry')).toBe(3);
    // nothing written into the cluster: no reconciler, no kubectl
    expect(count(template, 'AWS::Lambda::Function')).toBe(0);
    expect(count(template, 'AWS::Lambda::LayerVersion')).toBe(0);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/Custom::/);
    expect(grants.map(g => [g.accessPolicy, g.groups, g.kubernetesObjects.length])).toEqual([
      ['AmazonEKSViewPolicy', [], 0], ['AmazonEKSViewPolicy', [], 0], ['AmazonEKSViewPolicy', [], 0], ['AmazonEKSEditPolicy', [], 0], ['AmazonEKSAdminPolicy', [], 0],
    ]);
  });

  test('custom levels: groups on the entry, RBAC through the reconciler, which authenticates with an access entry of its own', () => {
    const stack = testStack();
    const cluster = v2Cluster(stack);
    const access = ClusterAccess.ofV2(cluster);
    const dev = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    access.grantRole(dev, CUSTOM);
    access.grantRole(dev, AccessLevel.namespaceView('team-a'));
    const template = Template.fromStack(stack);

    const entry = entryFor(template, { 'Fn::GetAtt': [stack.getLogicalId(dev.node.defaultChild as iam.CfnRole), 'Arn'] });
    expect(entry.KubernetesGroups).toEqual([CUSTOM.group]);
    expect(entry.AccessPolicies).toEqual([{ PolicyArn: policy('AmazonEKSViewPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['team-a'] } }]);
    // the reconciler's own entry: cluster admin, for its execution role
    const handlerRole = Object.keys(template.findResources('AWS::IAM::Role')).find(id => id.includes('ReconcilerHandlerRole'))!;
    const own = entryFor(template, { 'Fn::GetAtt': [handlerRole, 'Arn'] });
    expect(own.AccessPolicies).toEqual([{ PolicyArn: policy('AmazonEKSClusterAdminPolicy'), AccessScope: { Type: 'cluster' } }]);
    const ownId = Object.entries(template.findResources('AWS::EKS::AccessEntry')).find(([, r]) => r.Properties === own || JSON.stringify(r.Properties) === JSON.stringify(own))![0];
    // every reconciler resource: no RoleArn (the handler signs as itself), depends on that entry
    const custom = { ...template.findResources('Custom::CdkEksAccessRbac'), ...template.findResources('Custom::CdkEksAccessNamespaces') };
    expect(Object.keys(custom)).toHaveLength(2);
    for (const r of Object.values(custom)) {
      expect(r.Properties.RoleArn).toBeUndefined();
      expect(r.DependsOn).toContain(ownId);
    }
    expect(template.findResources('Custom::CdkEksAccessNamespaces')[Object.keys(template.findResources('Custom::CdkEksAccessNamespaces'))[0]].Properties.Namespaces).toEqual(['apps']);
    expect(rbacObjects(template).map(o => `${o.kind}/${o.metadata.namespace}`)).toEqual(['Role/apps', 'RoleBinding/apps']);
    // the principal's entry (which carries the group) waits for the binding and the namespace
    const entryId = Object.entries(template.findResources('AWS::EKS::AccessEntry')).find(([, r]) => JSON.stringify(r.Properties) === JSON.stringify(entry))![0];
    expect(template.toJSON().Resources[entryId].DependsOn).toEqual(expect.arrayContaining(Object.keys(custom)));
    // and nothing waits for the principal's entry (no cycle; the reconciler uses its own)
    for (const r of Object.values(custom)) expect(r.DependsOn).not.toContain(entryId);
    // no sts:AssumeRole: there is no kubectl role to assume
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('sts:AssumeRole');
    // the endpoint is public by default: the function runs outside any VPC
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^cdk-eks-access'), VpcConfig: Match.absent() });
  });

  test('a private endpoint puts the reconciler in the private subnets with the cluster security group', () => {
    const stack = testStack();
    const cluster = v2Cluster(stack, { endpointAccess: eksv2.EndpointAccess.PRIVATE });
    ClusterAccess.ofV2(cluster).grantRole(new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() }), CUSTOM);
    const template = Template.fromStack(stack);
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(r => /^cdk-eks-access/.test(r.Properties.Description))!;
    expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [stack.getLogicalId(cluster.node.defaultChild as eks.CfnCluster), 'ClusterSecurityGroupId'] }]);
    const privateSubnets = cluster.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.map(id => stack.resolve(id));
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(privateSubnets);
  });

  test('builtInLevelBackend RBAC: built-in levels become groups and RoleBindings; a namespace pattern is refused', () => {
    const stack = testStack();
    const access = ClusterAccess.ofV2(v2Cluster(stack), { builtInLevelBackend: BuiltInLevelBackend.RBAC });
    const dev = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = access.grantRole(dev, AccessLevel.namespaceView('team-a'));
    expect(grant.accessPolicy).toBeUndefined();
    expect(() => access.grantRole(dev, AccessLevel.namespaceView('dev-*')))
      .toThrow(/Test\/V2\/CdkEksAccess: the grant of namespace-view\(dev-\*\) to .*: the namespace pattern "dev-\*" works only as an EKS access-policy scope, but the level is written as RBAC/);
    const template = Template.fromStack(stack);
    expect(entryFor(template, { 'Fn::GetAtt': [stack.getLogicalId(dev.node.defaultChild as iam.CfnRole), 'Arn'] }).KubernetesGroups).toEqual(['cdk-eks-access:team-a:view']);
    expect(rbacObjects(template).map(o => `${o.kind}/${o.metadata.namespace}/${o.roleRef.name}`)).toEqual(['RoleBinding/team-a/view']);
  });

  test('createNamespaces: true creates the namespaces of access-policy grants (except patterns)', () => {
    const stack = testStack();
    const access = ClusterAccess.ofV2(v2Cluster(stack), { createNamespaces: true });
    const dev = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    access.grantRole(dev, AccessLevel.namespaceView('team-a'));
    access.grantRole(dev, AccessLevel.namespaceView('dev-*'));
    const template = Template.fromStack(stack);
    expect(Object.values(template.findResources('Custom::CdkEksAccessNamespaces')).map(r => r.Properties.Namespaces)).toEqual([['team-a']]);
    expect(count(template, 'Custom::CdkEksAccessRbac')).toBe(0);
  });

  test('an imported cluster takes grants; with only built-in levels it needs nothing but access entries', () => {
    const stack = testStack();
    const imported = eksv2.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'prod' });
    const access = ClusterAccess.ofV2(imported);
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/ops'), AccessLevel.clusterAdmin());
    const template = Template.fromStack(stack);
    expect(entryFor(template, 'arn:aws:iam::111122223333:role/ops')).toEqual({
      ClusterName: 'prod',
      PrincipalArn: 'arn:aws:iam::111122223333:role/ops',
      Username: 'role:ops:{{SessionName}}',
      AccessPolicies: [{ PolicyArn: policy('AmazonEKSClusterAdminPolicy'), AccessScope: { Type: 'cluster' } }],
      Type: 'STANDARD',
    });
    expect(Object.keys(template.toJSON().Resources)).toHaveLength(1);
    expect(access.clusterName).toBe('prod');
    expect(access.cluster).toBeUndefined();
    expect(access.clusterV2).toBe(imported);
  });

  test('the cluster creator\'s bootstrap admin entry is warned about unless it is turned off', () => {
    const stack = testStack();
    ClusterAccess.ofV2(new eksv2.Cluster(stack, 'Default', { version: eksv2.KubernetesVersion.V1_35 }));
    ClusterAccess.ofV2(v2Cluster(stack));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('bootstrapClusterCreatorAdminPermissions'));
    expect(warnings.map(w => w.id)).toEqual(['/Test/Default/CdkEksAccess']);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/cdk-eks-access:bootstrapClusterCreatorAdmin/);
  });

  describe('validation', () => {
    test('of() refuses aws-eks-v2 clusters and ofV2() aws-eks clusters, naming the other', () => {
      const stack = testStack();
      const v2 = v2Cluster(stack);
      const imported = eksv2.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'prod' });
      expect(() => ClusterAccess.of(v2 as any)).toThrow(/ClusterAccess.of\(Test\/V2\): this is an aws-cdk-lib\/aws-eks-v2 cluster; use ClusterAccess.ofV2\(cluster\)/);
      expect(() => ClusterAccess.of(imported as any)).toThrow(/use ClusterAccess.ofV2/);
      const v1 = testCluster(stack);
      expect(() => ClusterAccess.ofV2(v1.cluster as any)).toThrow(/ClusterAccess.ofV2\(Test\/Cluster\/Cluster\): expected an aws-cdk-lib\/aws-eks-v2 cluster.*use ClusterAccess.of\(\)/);
    });

    test('options given again must be the same', () => {
      const stack = testStack();
      const cluster = v2Cluster(stack);
      const access = ClusterAccess.ofV2(cluster, { builtInLevelBackend: BuiltInLevelBackend.RBAC });
      expect(ClusterAccess.ofV2(cluster)).toBe(access);
      expect(ClusterAccess.ofV2(cluster, { builtInLevelBackend: BuiltInLevelBackend.RBAC })).toBe(access);
      expect(() => ClusterAccess.ofV2(cluster, { builtInLevelBackend: BuiltInLevelBackend.ACCESS_POLICY }))
        .toThrow(/already created with other options \(builtInLevelBackend RBAC\); now builtInLevelBackend ACCESS_POLICY/);
    });

    test.each([
      ['a managed node group\'s role', (_s: Stack, c: eksv2.Cluster) => c.addNodegroupCapacity('Ng').role, /node group Test\/V2\/NodegroupNg/],
      ['a Fargate profile\'s pod execution role', (_s: Stack, c: eksv2.Cluster) => c.addFargateProfile('Fp', { selectors: [{ namespace: 'x' }] }).podExecutionRole, /Test\/V2\/FpPodExecutionRole|Fargate profile Test\/V2\/fargate-profile-Fp/],
      ['a principal of cluster.grantAccess()', (s: Stack, c: eksv2.Cluster) => {
        const role = new iam.Role(s, 'Other', { assumedBy: new iam.AccountRootPrincipal() });
        c.grantAccess('Own', role.roleArn, [eksv2.AccessPolicy.fromAccessPolicyName('AmazonEKSViewPolicy', { accessScopeType: eksv2.AccessScopeType.CLUSTER })]);
        return role;
      }, /cluster.grantAccess\(\) of aws-eks-v2/],
    ])('granting %s is an error naming it (EKS allows one access entry per principal)', (_name, make, expected) => {
      const stack = testStack();
      const cluster = v2Cluster(stack, { defaultCapacity: 0, defaultCapacityType: eksv2.DefaultCapacityType.NODEGROUP });
      const role = make(stack, cluster)!;
      ClusterAccess.ofV2(cluster).grantRole(role, AccessLevel.clusterView());
      expect(() => Template.fromStack(stack)).toThrow(expected);
      expect(() => Template.fromStack(stack)).toThrow(/cdk-eks-access:principalAlreadyHasAccessEntry.*ResourceInUseException/);
    });

    test('the mastersRole and Auto Mode\'s node and cluster roles already have entries', () => {
      const stack = testStack();
      const masters = new iam.Role(stack, 'Masters', { assumedBy: new iam.AccountRootPrincipal() });
      const nodeRole = new iam.Role(stack, 'NodeRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      const cluster = v2Cluster(stack, { mastersRole: masters, compute: { nodeRole } }, false);
      const access = ClusterAccess.ofV2(cluster);
      access.grantRole(masters, AccessLevel.clusterView());
      access.grantRole(nodeRole, AccessLevel.clusterView());
      access.grantRole(cluster.role, AccessLevel.clusterView());
      expect(() => Template.fromStack(stack)).toThrow(/Test\/NodeRole \(ARN known at deploy time\) already has an access entry from EKS Auto Mode's node role[^]*Test\/V2\/Role \(ARN known at deploy time\) already has an access entry from EKS Auto Mode's cluster role[^]*Test\/Masters \(ARN known at deploy time\) already has an access entry from cluster.grantAccess\(\)/);
    });
  });
});

describe('review findings', () => {
  test('M1: a public endpoint open to some CIDRs only puts the reconciler in the VPC (Lambda\'s addresses are not in the list)', () => {
    const stack = testStack();
    const cluster = v2Cluster(stack, { endpointAccess: eksv2.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom('203.0.113.0/24') });
    ClusterAccess.ofV2(cluster).grantRole(new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() }), CUSTOM);
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find(r => /^cdk-eks-access/.test(r.Properties.Description))!;
    expect(fn.Properties.VpcConfig).toBeDefined();
  });

  test('M2: an aws-eks-v2 cluster without the bootstrap admin needs a cluster admin from the app', () => {
    const none = testStack();
    ClusterAccess.ofV2(v2Cluster(none, {}, false)).grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/dev'), AccessLevel.namespaceView('a'));
    expect(() => Template.fromStack(none)).toThrow(/cdk-eks-access:clusterWithoutAdmin\] the aws-eks-v2 cluster Test\/V2 has bootstrapClusterCreatorAdminPermissions false and no cluster admin/);
    const granted = testStack();
    ClusterAccess.ofV2(v2Cluster(granted, {}, false)).grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/ops'), AccessLevel.clusterAdmin());
    expect(() => Template.fromStack(granted)).not.toThrow();
    const masters = testStack();
    ClusterAccess.ofV2(v2Cluster(masters)).grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/dev'), AccessLevel.namespaceView('a'));
    expect(() => Template.fromStack(masters)).not.toThrow();
  });

  test('M3: an access entry the app writes itself (aws-eks-v2 AccessEntry, raw CfnAccessEntry) for a granted principal is an error', () => {
    const stack = testStack();
    const cluster = v2Cluster(stack);
    new eksv2.AccessEntry(stack, 'Own', { cluster, principal: 'arn:aws:iam::111122223333:role/own', accessPolicies: [] });
    new eks.CfnAccessEntry(stack, 'Raw', { clusterName: cluster.clusterName, principalArn: 'arn:aws:iam::111122223333:role/raw' });
    const access = ClusterAccess.ofV2(cluster);
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/own'), AccessLevel.clusterView());
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/raw'), AccessLevel.clusterView());
    expect(() => Template.fromStack(stack)).toThrow(/role\/own already has an access entry from the access entry Test\/Own\/Resource[^]*role\/raw already has an access entry from the access entry Test\/Raw/);
  });

  test('M4: with bootstrapClusterCreatorAdminPermissions false, aws-eks\'s creation role has no entry and may be granted', () => {
    const stack = testStack();
    const cluster = testCluster(stack, { authenticationMode: eks.AuthenticationMode.API });
    (cluster.cluster.node.findAll().find(c => (c as any).cfnResourceType === 'Custom::AWSCDK-EKS-Cluster') as any)._cfnProperties.Config.accessConfig.bootstrapClusterCreatorAdminPermissions = false;
    cluster.grantRole(cluster.cluster.adminRole, AccessLevel.clusterAdmin());
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('L2: options that mean the same as the first ones are accepted', () => {
    const stack = testStack();
    const cluster = v2Cluster(stack);
    const access = ClusterAccess.ofV2(cluster);
    expect(ClusterAccess.ofV2(cluster, { builtInLevelBackend: BuiltInLevelBackend.ACCESS_POLICY })).toBe(access);
    const v1 = testCluster(stack, {}, 'V1');
    expect(ClusterAccess.of(v1.cluster, { builtInLevelBackend: BuiltInLevelBackend.RBAC })).toBe(v1.access);
  });

  test('L3: a pattern that covers a namespace of Kubernetes or EKS is warned about', () => {
    const stack = testStack();
    const access = ClusterAccess.ofV2(v2Cluster(stack));
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/dev'), AccessLevel.namespaceView('kube-*'));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('also covers kube-system, kube-public, kube-node-lease'));
    expect(warnings).toHaveLength(1);
  });
});

describe('access policies on aws-eks clusters', () => {
  test('API mode: built-in levels as access policies, no reconciler; the creator (aws-eks adminRole) cannot be granted', () => {
    const stack = testStack();
    const props = { authenticationMode: eks.AuthenticationMode.API, builtInLevelBackend: BuiltInLevelBackend.ACCESS_POLICY };
    const cluster = testCluster(stack, props);
    const dev = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    cluster.grantRole(dev, AccessLevel.namespaceEdit('team-a'));
    const template = Template.fromStack(stack);
    expect(entryFor(template, { 'Fn::GetAtt': [stack.getLogicalId(dev.node.defaultChild as iam.CfnRole), 'Arn'] }).AccessPolicies)
      .toEqual([{ PolicyArn: policy('AmazonEKSEditPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['team-a'] } }]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/Custom::CdkEksAccess/);

    // aws-eks's creation role gets its entry from EKS itself (bootstrap cluster creator admin)
    const other = testStack();
    const second = testCluster(other, props);
    second.grantRole(second.cluster.adminRole, AccessLevel.clusterView());
    expect(() => Template.fromStack(other)).toThrow(/Test\/Cluster\/Cluster\/Resource\/CreationRole \(ARN known at deploy time\) already has an access entry from the cluster creator \(aws-eks's adminRole of Test\/Cluster\/Cluster/);
  });

  test('API_AND_CONFIG_MAP: the access entry has the policy, aws-auth keeps the group and its RoleBinding', () => {
    const stack = testStack();
    const cluster = testCluster(stack, {
      authenticationMode: eks.AuthenticationMode.API_AND_CONFIG_MAP, builtInLevelBackend: BuiltInLevelBackend.ACCESS_POLICY,
    });
    cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/dev'), AccessLevel.namespaceView('team-a'));
    expect(() => cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/dev'), AccessLevel.namespaceView('dev-*')))
      .toThrow(/the cluster also reads aws-auth, which has no namespace patterns/);
    const template = Template.fromStack(stack);
    const entry = entryFor(template, 'arn:aws:iam::111122223333:role/dev');
    expect(entry.KubernetesGroups).toBeUndefined();
    expect(entry.AccessPolicies).toEqual([{ PolicyArn: policy('AmazonEKSViewPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['team-a'] } }]);
    expect(awsAuth(template).mapRoles.find(e => e.rolearn === 'arn:aws:iam::111122223333:role/dev')!.groups).toEqual(['cdk-eks-access:team-a:view']);
    expect(rbacObjects(template).map(o => `${o.kind}/${o.metadata.namespace}`)).toEqual(['RoleBinding/team-a']);
  });

  test('CONFIG_MAP with ACCESS_POLICY is refused with the reason', () => {
    const stack = testStack();
    expect(() => testCluster(stack, { builtInLevelBackend: BuiltInLevelBackend.ACCESS_POLICY }))
      .toThrow(/cdk-eks-access:accessPolicyNeedsAccessEntries\] EksCluster Test\/Cluster: EksClusterProps.builtInLevelBackend ACCESS_POLICY needs access entries, but the cluster's authentication mode is CONFIG_MAP/);
  });
});
