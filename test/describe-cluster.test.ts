import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, AccessPrincipal, AccessReport, ClusterAccess } from '../src';
import { testCluster, testStack, TEST_APP_PROPS } from './util';

const SSO = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01';

/** The eks:DescribeCluster statements of the template, with the roles and users their policy is attached to. */
function describeStatements(template: Template): Array<{ resource: unknown; roles: unknown[]; users: unknown[] }> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(p => (p.Properties.PolicyDocument.Statement as any[])
    .filter(s => [s.Action].flat().includes('eks:DescribeCluster'))
    .map(s => ({ resource: s.Resource, roles: p.Properties.Roles ?? [], users: p.Properties.Users ?? [] })));
}

describe('the IAM half of a grant: eks:DescribeCluster', () => {
  test('a role and a user created in the app get it once, on this cluster only', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    const role = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    const user = new iam.User(stack, 'Bob');
    const g1 = cluster.grantRole(role, AccessLevel.namespaceView('team-a'));
    const g2 = cluster.grantRole(role, AccessLevel.namespaceEdit('team-b'));
    const g3 = cluster.grantUser(user, AccessLevel.clusterView());
    expect([g1.describeCluster, g2.describeCluster, g3.describeCluster]).toEqual([true, true, true]);
    const clusterArn = { 'Fn::GetAtt': [stack.getLogicalId(cluster.cluster.node.findChild('Resource').node.findChild('Resource').node.defaultChild as any), 'Arn'] };
    const found = describeStatements(Template.fromStack(stack));
    const refOf = (c: iam.Role | iam.User) => JSON.stringify([{ Ref: stack.getLogicalId(c.node.defaultChild as iam.CfnRole) }]);
    const forRole = found.filter(s => JSON.stringify(s.roles) === refOf(role));
    const forUser = found.filter(s => JSON.stringify(s.users) === refOf(user));
    expect(forRole).toEqual([{ resource: clusterArn, roles: expect.anything(), users: [] }]);
    expect(forUser).toEqual([{ resource: clusterArn, roles: [], users: expect.anything() }]);
  });

  test('imported roles get it only when asked (a mutable import gets a policy attached by name); opt-out for created ones', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    const imported = iam.Role.fromRoleArn(stack, 'Imported', 'arn:aws:iam::111122223333:role/ops/Oncall');
    const asked = iam.Role.fromRoleArn(stack, 'Asked', 'arn:aws:iam::111122223333:role/Asked');
    const created = new iam.Role(stack, 'Created', { assumedBy: new iam.AccountRootPrincipal() });
    expect(cluster.grantRole(imported, AccessLevel.clusterView()).describeCluster).toBe(false);
    expect(cluster.grantRole(asked, AccessLevel.clusterView(), { describeCluster: true }).describeCluster).toBe(true);
    expect(cluster.grantRole(created, AccessLevel.clusterView(), { describeCluster: false }).describeCluster).toBe(false);
    const found = describeStatements(Template.fromStack(stack));
    // the EksCluster's own admin role (created from adminPrincipal) has it from EksCluster; plus Asked
    expect(found.map(s => s.roles).flat()).toEqual(expect.arrayContaining(['Asked']));
    expect(JSON.stringify(found)).not.toContain('Oncall');
    expect(JSON.stringify(found)).not.toContain(stack.getLogicalId(created.node.defaultChild as iam.CfnRole));
  });

  test.each([
    ['an SSO permission set', (c: any) => c.grantSsoPermissionSet(SSO, AccessLevel.clusterView(), { describeCluster: true }), /is given by ARN.*add the statement to the permission set/],
    ['a role given by ARN', (c: any) => c.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/x'), AccessLevel.clusterView(), { describeCluster: true }), /is given by ARN.*Pass the role or user as a construct/],
    ['an immutable import', (c: any, s: Stack) => c.grantRole(iam.Role.fromRoleArn(s, 'Fixed', 'arn:aws:iam::111122223333:role/Fixed', { mutable: false }), AccessLevel.clusterView(), { describeCluster: true }), /Test\/Fixed cannot take a policy \(an immutable import/],
  ])('describeCluster: true on %s throws with the fix', (_name, grant, message) => {
    const stack = testStack();
    const cluster = testCluster(stack);
    expect(() => grant(cluster, stack)).toThrow(message);
  });

  test('a role of another stack gets it through a policy in the cluster\'s stack (no dependency cycle)', () => {
    const app = new App({ ...TEST_APP_PROPS });
    const roles = new Stack(app, 'Roles');
    const role = new iam.Role(roles, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    const stack = new Stack(app, 'ClusterStack');
    const cluster = testCluster(stack);
    cluster.grantRole(role, AccessLevel.clusterView());
    app.synth();
    const found = describeStatements(Template.fromStack(stack)).filter(s => JSON.stringify(s.roles).includes('Fn::ImportValue'));
    expect(found).toHaveLength(1);
    expect(describeStatements(Template.fromStack(roles))).toEqual([]);
  });

  test('a given adminRole is left untouched by the admin grant', () => {
    const stack = testStack();
    const adminRole = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    testCluster(stack, { adminRole, adminPrincipal: undefined });
    const adminId = stack.getLogicalId(adminRole.node.defaultChild as iam.CfnRole);
    expect(JSON.stringify(describeStatements(Template.fromStack(stack)))).not.toContain(adminId);
  });

  test('the report prints each principal\'s update-kubeconfig command, and the statement for those that lack it', () => {
    const stack = testStack();
    const cluster = new eksv2.Cluster(stack, 'V2', { version: eksv2.KubernetesVersion.V1_35, bootstrapClusterCreatorAdminPermissions: false });
    const access = ClusterAccess.ofV2(cluster);
    access.grantRole(new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() }), AccessLevel.namespaceView('a'));
    access.grantRole(iam.Role.fromRoleArn(stack, 'Imported', 'arn:aws:iam::111122223333:role/x/Imported'), AccessLevel.namespaceView('a'));
    access.grantRole(iam.Role.fromRoleArn(stack, 'Asked', 'arn:aws:iam::111122223333:role/Asked'), AccessLevel.namespaceView('a'), { describeCluster: true });
    access.grantUser(iam.User.fromUserName(stack, 'Bob', 'bob'), AccessLevel.namespaceView('a'));
    access.grantUser(new iam.User(stack, 'Eve'), AccessLevel.namespaceView('a'));
    access.grantSsoPermissionSet(SSO, AccessLevel.clusterView());
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/zz-admin'), AccessLevel.clusterAdmin());
    const text = AccessReport.fromStack(stack).toText();
    const section = text.slice(text.indexOf('kubectl access'));
    const block = (who: string) => section.slice(section.indexOf(`  ${who}\n`)).split('\n').slice(0, 3).join('\n');
    const base = 'aws eks update-kubeconfig --name ${V2EFE0F493} --region ${AWS::Region}';
    const statement = '{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"${V2EFE0F493.Arn}"}';
    // a role created in the app reads by its construct path (its ARN is known at deploy time)
    expect(block('<ARN of Test/Dev>')).toBe(`  <ARN of Test/Dev>\n    ${base} --role-arn <ARN of Test/Dev>\n  <ARN of Test/Eve>`);
    expect(block('arn:aws:iam::111122223333:role/Asked')).toBe(`  arn:aws:iam::111122223333:role/Asked\n    ${base} --role-arn arn:aws:iam::111122223333:role/Asked\n  ${SSO}`);
    expect(block('arn:aws:iam::111122223333:role/x/Imported')).toBe(`  arn:aws:iam::111122223333:role/x/Imported\n    ${base} --role-arn arn:aws:iam::111122223333:role/x/Imported\n    needs on the role: ${statement}`);
    expect(block('arn:${AWS::Partition}:iam::${AWS::AccountId}:user/bob')).toBe(`  arn:\${AWS::Partition}:iam::\${AWS::AccountId}:user/bob\n    ${base}\n    needs on the user: ${statement}`);
    expect(block(SSO)).toBe(`  ${SSO}\n    ${base} --profile <your profile of permission set ViewOnlyAccess>\n    needs in permission set ViewOnlyAccess (IAM Identity Center): ${statement}`);
    // a user created in the app: no role to assume (before: --role-arn with the user's ARN)
    const eve = section.split('\n').findIndex(l => l.includes('Test/Eve'));
    expect(eve).toBeGreaterThan(0);
    expect(section.split('\n')[eve + 1]).toBe(`    ${base}`);
  });
});
