import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { AccessLevel, AccessPrincipal, AccessReport, ClusterAccess } from '../src';
import { awsAuth, resourcesOf, testCluster, testStack } from './util';

// AccessLevel.existingGroups(): groups bound outside the app (lives in src/access-level.ts;
// its own file because it spans the level, both backends and the report)
describe('AccessLevel.existingGroups', () => {
  test('maps only the given groups, generates no RBAC objects and no namespace', () => {
    const level = AccessLevel.existingGroups(['developers', 'readers', 'developers']);
    expect(level.groups).toEqual(['developers', 'readers']);
    expect(level.group).toBe('developers');
    expect(level.namespaceName).toBeUndefined();
    expect(level.isClusterAdmin).toBe(false);
    expect(level._objects()).toEqual([]);
    expect(level.toString()).toBe('existing-groups(developers,readers)');
  });

  test('the levels with one group keep group and groups in step', () => {
    for (const level of [AccessLevel.clusterAdmin(), AccessLevel.clusterView(), AccessLevel.namespaceEdit('a')]) {
      expect(level.groups).toEqual([level.group]);
    }
  });

  describe('validation', () => {
    test.each([
      [[], /AccessLevel.existingGroups\(\): groups is empty\. Name at least one group/],
      [['system:masters'], /"system:masters" cannot be passed in GrantOptions.groups or AccessLevel.existingGroups\(\)\. Use AccessLevel.clusterAdmin\(\)/],
      [['eks:x'], /AccessLevel.existingGroups\(\): the group "eks:x" starts with the reserved prefix "eks:"/],
      [['a b'], /the group "a b" contains whitespace/],
      [[''], /the group "" is empty/],
    ])('%j is refused, naming the value', (groups, message) => {
      expect(() => AccessLevel.existingGroups(groups)).toThrow(message);
    });
  });

  test('aws-auth: the entry has exactly the groups (plus GrantOptions.groups), no RBAC resource, no namespaces resource', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    const grant = cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.existingGroups(['developers', 'readers']),
      { username: 'dev:{{SessionName}}', groups: ['extra'] });
    expect(grant.groups).toEqual(['developers', 'readers', 'extra']);
    expect(grant.kubernetesObjects).toEqual([]);
    const template = Template.fromStack(stack);
    expect(awsAuth(template).mapRoles).toContainEqual({ rolearn: 'arn:aws:iam::111122223333:role/Dev', username: 'dev:{{SessionName}}', groups: ['developers', 'extra', 'readers'] });
    template.resourceCountIs('Custom::CdkEksAccessRbac', 0);
    template.resourceCountIs('Custom::CdkEksAccessNamespaces', 0);
  });

  test('merges with another level of the same principal', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    const dev = AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev');
    cluster.grant(dev, AccessLevel.existingGroups(['developers']), { username: 'dev' });
    cluster.grant(dev, AccessLevel.namespaceView('team-a'), { username: 'dev' });
    const entry = awsAuth(Template.fromStack(stack)).mapRoles.find(e => e.rolearn === 'arn:aws:iam::111122223333:role/Dev');
    expect(entry).toEqual({ rolearn: 'arn:aws:iam::111122223333:role/Dev', username: 'dev', groups: ['cdk-eks-access:team-a:view', 'developers'] });
  });

  test('access entries: the groups are the entry\'s kubernetesGroups, no access policy', () => {
    const stack = testStack();
    const cluster = testCluster(stack, { authenticationMode: eks.AuthenticationMode.API });
    cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/teams/Dev'), AccessLevel.existingGroups(['developers', 'readers']));
    const entries = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::EKS::AccessEntry'))
      .filter(e => e.Properties.PrincipalArn === 'arn:aws:iam::111122223333:role/teams/Dev');
    expect(entries).toHaveLength(1);
    expect(entries[0].Properties.KubernetesGroups).toEqual(['developers', 'readers']);
    expect(entries[0].Properties.AccessPolicies).toBeUndefined();
  });

  test('aws-eks-v2 with access policies for built-in levels: the groups stay groups (no policy stands for them), no Lambda', () => {
    const stack = testStack();
    const access = ClusterAccess.ofV2(new eksv2.Cluster(stack, 'V2', { version: eksv2.KubernetesVersion.V1_35, bootstrapClusterCreatorAdminPermissions: false }));
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.existingGroups(['developers']));
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.namespaceView('team-a'));
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Ops'), AccessLevel.clusterAdmin());
    const template = Template.fromStack(stack);
    const entry = Object.values(resourcesOf(template, 'AWS::EKS::AccessEntry')).find(e => e.Properties.PrincipalArn === 'arn:aws:iam::111122223333:role/Dev')!;
    expect(entry.Properties.KubernetesGroups).toEqual(['developers']);
    expect(entry.Properties.AccessPolicies).toHaveLength(1); // namespaceView('team-a') as AmazonEKSViewPolicy
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(0);
  });

  test('consoleAccess is refused: the groups\' scope is bound outside the app', () => {
    const cluster = testCluster(testStack());
    expect(() => cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.existingGroups(['developers']), { consoleAccess: true }))
      .toThrow(/\[cdk-eks-access:consoleAccessForExistingGroups\] .*consoleAccess cannot be derived from existing-groups\(developers\)/);
  });

  test('the report shows the groups as mapped, not bound by the app; canI says so', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.existingGroups(['developers']));
    const report = AccessReport.fromStack(stack);
    expect(report.findings().map(f => f.kind)).toEqual(['unbound-group']);
    expect(report.findings()[0].message).toMatch(/group developers is mapped .* no binding in this app binds it \(fine only if it is bound elsewhere\)/);
    const answer = report.canI({ principalArn: 'arn:aws:sts::111122223333:assumed-role/Dev/alice', verb: 'get', resource: 'pods', namespaceName: 'a' });
    expect(answer.allowed).toBe(false);
    expect(answer.reason).toMatch(/developers is bound outside this app \(if at all\), which this report cannot see/);
  });
});
