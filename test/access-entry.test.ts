import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, AccessPrincipal, ClusterAccess } from '../src';
import { mixedGrants } from './fixtures';
import { awsAuth, rbacObjects, testCluster, testStack } from './util';

const API = eks.AuthenticationMode.API;
const BOTH = eks.AuthenticationMode.API_AND_CONFIG_MAP;
const SSO = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01';

function entries(template: Template): any[] {
  return Object.values(template.findResources('AWS::EKS::AccessEntry')).map(r => r.Properties);
}

function entryFor(template: Template, principalArn: unknown) {
  const found = entries(template).filter(e => JSON.stringify(e.PrincipalArn) === JSON.stringify(principalArn));
  expect(found).toHaveLength(1);
  return found[0];
}

const adminPolicy = [{
  PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] },
  AccessScope: { Type: 'cluster' },
}];

describe('access entries', () => {
  test('API: one access entry per principal with the full ARN (path kept), username, groups; admin via AmazonEKSClusterAdminPolicy', () => {
    const stack = testStack();
    const cluster = testCluster(stack, { authenticationMode: API });
    cluster.grantSsoPermissionSet(SSO, AccessLevel.namespaceView('team-a'));
    cluster.grantSsoPermissionSet(SSO, AccessLevel.clusterAdmin());
    cluster.grantUser(iam.User.fromUserArn(stack, 'Bob', 'arn:aws:iam::111122223333:user/ops/bob'), AccessLevel.clusterView(), { username: 'bob' });
    const template = Template.fromStack(stack);
    expect(entryFor(template, SSO)).toEqual({
      ClusterName: expect.anything(),
      PrincipalArn: SSO,
      Username: 'sso:ViewOnlyAccess:{{SessionName}}',
      KubernetesGroups: ['cdk-eks-access:team-a:view'], // system:masters is not allowed in access entries
      AccessPolicies: adminPolicy,
      Type: 'STANDARD',
    });
    expect(entryFor(template, 'arn:aws:iam::111122223333:user/ops/bob')).toEqual({
      ClusterName: expect.anything(),
      PrincipalArn: 'arn:aws:iam::111122223333:user/ops/bob',
      Username: 'bob',
      KubernetesGroups: ['cdk-eks-access:cluster-view'],
      Type: 'STANDARD',
    });
    // the admin role created by EksCluster: its ARN attribute (with whatever path it has)
    expect(entryFor(template, { 'Fn::GetAtt': [stack.getLogicalId(cluster.adminRole.node.defaultChild as iam.CfnRole), 'Arn'] }).AccessPolicies).toEqual(adminPolicy);
    expect(entries(template)).toHaveLength(3);
    // no aws-auth in API mode; the RBAC objects are the same as in CONFIG_MAP mode
    expect(Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).some(r => JSON.stringify(r).includes('aws-auth'))).toBe(false);
    expect(rbacObjects(template).filter(o => o.kind.endsWith('Binding')).map(o => o.subjects[0].name).sort())
      .toEqual(['cdk-eks-access:cluster-view', 'cdk-eks-access:team-a:view']);
  });

  test('API_AND_CONFIG_MAP: both backends with the same usernames and groups', () => {
    const stack = testStack();
    const cluster = testCluster(stack, { authenticationMode: BOTH });
    cluster.grantRole(iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/teams/Dev'), AccessLevel.namespaceEdit('apps'));
    const template = Template.fromStack(stack);
    const mapped = awsAuth(template).mapRoles.find(e => e.rolearn === 'arn:aws:iam::111122223333:role/Dev')!;
    const entry = entryFor(template, 'arn:aws:iam::111122223333:role/teams/Dev');
    expect(entry.Username).toBe(mapped.username);
    expect(entry.KubernetesGroups).toEqual(mapped.groups);
  });

  test('the same grants in any order give a byte-identical template in API mode', () => {
    const synth = (specs: ReturnType<typeof mixedGrants>) => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: API });
      for (const g of specs) cluster.grant(g.principal, g.level, g.options);
      return JSON.stringify(Template.fromStack(stack).toJSON());
    };
    const specs = mixedGrants(40);
    expect(synth([...specs].reverse()) === synth(specs)).toBe(true);
  });

  describe('validation', () => {
    test('the same role with two different paths is an error', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: API });
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/a/Dev'), AccessLevel.clusterView());
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/b/Dev'), AccessLevel.clusterView());
      expect(() => Template.fromStack(stack)).toThrow(/role\/Dev is granted with different IAM paths \(arn:aws:iam::111122223333:role\/a\/Dev, arn:aws:iam::111122223333:role\/b\/Dev\)/);
    });

    test('a path-less SSO role plus its full ARN is fine: the full ARN is used', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: API });
      cluster.grantSsoPermissionSet('arn:aws:iam::111122223333:role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01', AccessLevel.clusterView());
      cluster.grantSsoPermissionSet(SSO, AccessLevel.namespaceView('a'));
      expect(entryFor(Template.fromStack(stack), SSO).KubernetesGroups).toEqual(['cdk-eks-access:a:view', 'cdk-eks-access:cluster-view']);
    });

    test('fromRoleName cannot become an access entry', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: API });
      cluster.grant(AccessPrincipal.fromRoleName('Dev'), AccessLevel.clusterView());
      expect(() => Template.fromStack(stack)).toThrow(/has no known full ARN.*fromRoleArn\(\) with the full ARN/);
    });

    test.each(['ops:{{AccountID}}', 'ops:{{AccessKeyID}}'])('username %j is refused when access entries are used', username => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: BOTH });
      expect(() => cluster.grantSsoPermissionSet(SSO, AccessLevel.clusterView(), { username })).toThrow(/EKS access entries do not document/);
    });

    test('a node group role already has an access entry from EKS', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: API });
      const nodes = cluster.cluster.addNodegroupCapacity('Nodes', { minSize: 1 });
      cluster.grantRole(nodes.role, AccessLevel.clusterView());
      expect(() => Template.fromStack(stack)).toThrow(/already has an access entry from node group Test\/Cluster\/Cluster\/NodegroupNodes/);
    });

    test('a principal that aws-eks cluster.grantAccess() already has is an error', () => {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: API });
      cluster.cluster.grantAccess('Own', SSO, [eks.AccessPolicy.fromAccessPolicyName('AmazonEKSViewPolicy', { accessScopeType: eks.AccessScopeType.CLUSTER })]);
      cluster.grantSsoPermissionSet(SSO, AccessLevel.clusterView());
      expect(() => Template.fromStack(stack)).toThrow(/already has an access entry from cluster.grantAccess\(\)/);
    });
  });

  test('API mode with cluster-admin grants only: no reconciler (nothing is written into the cluster)', () => {
    const stack = testStack();
    const cluster = testCluster(stack, { authenticationMode: API });
    cluster.grantSsoPermissionSet(SSO, AccessLevel.clusterAdmin());
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::EKS::AccessEntry'))).toHaveLength(2);
    expect(Object.keys(template.toJSON().Resources).filter(id => id.includes('CdkEksAccessReconciler'))).toEqual([]);
    const custom = Object.values(template.toJSON().Resources).filter((r: any) => r.Type.startsWith('Custom::CdkEksAccess'));
    expect(custom).toEqual([]);
  });

  describe('CloudFormation\'s 500-resource limit', () => {
    function apiStackWith(principals: number): Stack {
      const stack = testStack();
      const cluster = testCluster(stack, { authenticationMode: API });
      for (let i = 0; i < principals; i++) cluster.grant(AccessPrincipal.fromRoleArn(`arn:aws:iam::111122223333:role/r-${i}`), AccessLevel.clusterView());
      return stack;
    }
    const base = Object.keys(Template.fromStack(apiStackWith(1)).toJSON().Resources).length - 1;
    const limit = 500 - base;

    test(`measured: an EksCluster stack in API mode holds ${limit} granted principals (base ${base} resources)`, () => {
      expect(Object.keys(Template.fromStack(apiStackWith(limit)).toJSON().Resources)).toHaveLength(500);
    });

    test('one more fails synth, suggesting fewer principals', () => {
      expect(() => Template.fromStack(apiStackWith(limit + 1))).toThrow(/would have 501 resources, over CloudFormation's 500; 4\d\d of them are access entries.*shared roles or SSO permission sets/);
    });
  });
});

describe('access entries keep their logical ids', () => {
  /** The logical ids of the stack's access entries, by principal (as the template names it, env-independent: the role's name or ARN tail). */
  function idsByPrincipal(stack: Stack): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [id, r] of Object.entries(Template.fromStack(stack).findResources('AWS::EKS::AccessEntry'))) {
      const arn = JSON.stringify(r.Properties.PrincipalArn);
      out[/\d{12}:role\/[\w-]+|role\/[\w-]+|user\/[\w/-]+|"Ref":"\w+"|GetAtt[^\]]+/.exec(arn)?.[0] ?? arn] = id;
    }
    return out;
  }

  function grants(stack: Stack, clusterId = 'Cluster') {
    const cluster = testCluster(stack, { authenticationMode: API }, clusterId);
    cluster.grantRole(new iam.Role(stack, 'Created', { assumedBy: new iam.AccountRootPrincipal() }), AccessLevel.clusterView());
    cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/teams/Literal'), AccessLevel.namespaceEdit('a'));
    cluster.grant(AccessPrincipal.fromRoleArn(`arn:${Stack.of(stack).partition}:iam::${Stack.of(stack).account}:role/StackAccount`), AccessLevel.namespaceEdit('b'));
    cluster.grantSsoPermissionSet(SSO, AccessLevel.namespaceView('b'));
    cluster.grant(AccessPrincipal.fromUserArn('arn:aws:iam::111122223333:user/people/alice'), AccessLevel.clusterView());
    return cluster;
  }

  test('pinning the stack\'s env moves no principal to another logical id (EKS would refuse the new entry: 409)', () => {
    const agnostic = testStack();
    grants(agnostic);
    const pinned = testStack({ env: { account: '111122223333', region: 'us-east-1' } });
    grants(pinned);

    const before = idsByPrincipal(agnostic);
    // the five grants and the cluster's admin
    expect(Object.keys(before).length).toBe(6);
    expect(Object.values(idsByPrincipal(pinned)).sort()).toEqual(Object.values(before).sort());
  });

  test('two roles of one name in two accounts get two ids; the stack account\'s keeps the id it has alone', () => {
    const ids = [false, true].map(both => {
      const stack = testStack({ env: { account: '111122223333', region: 'us-east-1' } });
      const cluster = testCluster(stack, { authenticationMode: API });
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Deployer'), AccessLevel.clusterView());
      if (both) cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::444455556666:role/Deployer'), AccessLevel.clusterView());
      return idsByPrincipal(stack);
    });
    const [alone, both] = ids;
    expect(Object.keys(both)).toHaveLength(Object.keys(alone).length + 1);
    expect(Object.values(both)).toEqual(expect.arrayContaining(Object.values(alone)));
  });

  test('renaming the construct of an imported cluster moves no principal to another logical id', () => {
    const ids = ['Prod', 'ProductionCluster'].map(id => {
      const stack = testStack();
      const cluster = eksv2.Cluster.fromClusterAttributes(stack, id, { clusterName: 'prod' });
      const access = ClusterAccess.ofV2(cluster);
      access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.clusterAdmin());
      access.grant(AccessPrincipal.fromRoleArn(`arn:aws:iam::${Stack.of(stack).account}:role/Ops`), AccessLevel.clusterView());
      return Object.keys(Template.fromStack(stack).findResources('AWS::EKS::AccessEntry')).sort();
    });
    expect(ids[0]).toHaveLength(2);
    expect(ids[1]).toEqual(ids[0]);
  });
});
