import { Aws, CfnParameter, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessPrincipal, AccessPrincipalType } from '../src';
import { testApp, testStack } from './util';

function bind(principal: AccessPrincipal, stack: Stack = testStack()) {
  const bound = principal._bind(stack);
  return { ...bound, mapped: stack.resolve(bound.mappedArn) };
}

describe('AccessPrincipal', () => {
  describe('role ARNs are mapped without their path', () => {
    test.each([
      ['arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/Admin'],
      ['arn:aws:iam::111122223333:role/teams/platform/Deployer', 'arn:aws:iam::111122223333:role/Deployer'],
      ['arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01',
        'arn:aws:iam::111122223333:role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01'],
      ['arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef',
        'arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef'],
    ])('fromRoleArn(%s) -> %s', (arn, mapped) => {
      const p = AccessPrincipal.fromRoleArn(arn);
      expect(p.principalType).toBe(AccessPrincipalType.ROLE);
      expect(p.arn).toBe(arn); // the full ARN is kept for later backends
      expect(bind(p).mapped).toBe(mapped);
    });

    test.each(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'])('partition %s is accepted', partition => {
      expect(bind(AccessPrincipal.fromRoleArn(`arn:${partition}:iam::111122223333:role/p/R`)).mapped).toBe(`arn:${partition}:iam::111122223333:role/R`);
      expect(bind(AccessPrincipal.fromUserArn(`arn:${partition}:iam::111122223333:user/p/u`)).mapped).toBe(`arn:${partition}:iam::111122223333:user/p/u`);
    });
  });

  describe('users keep their path', () => {
    test('fromUserArn', () => {
      const p = AccessPrincipal.fromUserArn('arn:aws:iam::111122223333:user/division/team/bob');
      expect(p.principalType).toBe(AccessPrincipalType.USER);
      const b = bind(p);
      expect(b.mapped).toBe('arn:aws:iam::111122223333:user/division/team/bob');
      expect(b.defaultUsername).toBe('user:bob');
    });

    test('fromUser with a created user uses its ARN attribute (with path)', () => {
      const stack = testStack();
      const user = new iam.User(stack, 'Alice', { path: '/people/' });
      const b = bind(AccessPrincipal.fromUser(user), stack);
      const id = stack.getLogicalId(user.node.defaultChild as iam.CfnUser);
      expect(b.mapped).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
      expect(stack.resolve(b.defaultUsername)).toEqual({ 'Fn::Join': ['', ['user:', { Ref: id }]] });
    });

    test('fromUserArn with an opaque token is accepted as is (a user ARN needs no rewriting)', () => {
      const stack = testStack();
      const b = bind(AccessPrincipal.fromUserArn(Fn.importValue('UserArn')), stack);
      expect(b.mapped).toEqual({ 'Fn::ImportValue': 'UserArn' });
    });
  });

  describe('SSO permission sets', () => {
    test('default username names the permission set', () => {
      const p = AccessPrincipal.fromSsoPermissionSet('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01');
      expect(p.permissionSetName).toBe('ViewOnlyAccess');
      expect(bind(p).defaultUsername).toBe('sso:ViewOnlyAccess:{{SessionName}}');
    });

    test('a path-less SSO role ARN is accepted, but its full ARN is unknown', () => {
      const p = AccessPrincipal.fromSsoPermissionSet('arn:aws:iam::111122223333:role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01');
      expect(p.arn).toBeUndefined();
      expect(bind(p).mapped).toBe('arn:aws:iam::111122223333:role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01');
    });

    test('an SSO role under another path is rejected', () => {
      expect(() => AccessPrincipal.fromSsoPermissionSet('arn:aws:iam::111122223333:role/teams/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01'))
        .toThrow(/has the path "\/teams\/".*aws-reserved\/sso.amazonaws.com/);
    });

    test('fromRoleArn recognises an SSO role for its username', () => {
      const p = AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef');
      expect(bind(p).defaultUsername).toBe('sso:Dev:{{SessionName}}');
    });
  });

  describe('tokens', () => {
    test('a role created in the app is mapped from its name, even with a path', () => {
      const stack = testStack();
      const role = new iam.Role(stack, 'Deployer', { assumedBy: new iam.AccountRootPrincipal(), path: '/ci/' });
      const b = bind(AccessPrincipal.fromRole(role), stack);
      const id = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
      expect(b.mapped).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/', { Ref: id }]] });
    });

    test('an ARN with token partition and account but a literal resource is path-stripped', () => {
      const stack = testStack();
      const b = bind(AccessPrincipal.fromRoleArn(`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/teams/Deployer`), stack);
      expect(b.mapped).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/Deployer']] });
    });

    test.each([
      ['Fn.importValue', () => Fn.importValue('RoleArn')],
      ['a parameter', (s: Stack) => new CfnParameter(s, 'RoleArn').valueAsString],
    ])('an opaque role ARN token (%s) is rejected with the fix', (_, make) => {
      const stack = testStack();
      const token = make(stack);
      expect(() => AccessPrincipal.fromRoleArn(token)).toThrow(/is a token .*IAM path cannot be stripped.*fromRoleName/);
      const imported = iam.Role.fromRoleArn(stack, 'Imported', token);
      expect(() => AccessPrincipal.fromRole(imported)).toThrow(/AccessPrincipal.fromRole\(Test\/Imported\): the ARN of Test\/Imported is a token/);
    });

    test('fromRoleName takes a token name and the cluster stack account and partition', () => {
      const stack = new Stack(testApp(), 'S', { env: { account: '111122223333', region: 'cn-north-1' } });
      const name = new CfnParameter(stack, 'RoleName').valueAsString;
      const b = bind(AccessPrincipal.fromRoleName(name), stack);
      expect(b.mapped).toEqual({ 'Fn::Join': ['', ['arn:aws-cn:iam::111122223333:role/', { Ref: 'RoleName' }]] });
      expect(b.partition).toBe('aws-cn');
    });

    test.each([
      ['teams/Deployer', /not an IAM role name/],
      ['', /not an IAM role name/],
    ])('fromRoleName(%j) is rejected', (name, error) => {
      expect(() => AccessPrincipal.fromRoleName(name)).toThrow(error);
    });

    test('fromRoleName checks account and partition', () => {
      expect(() => AccessPrincipal.fromRoleName('R', { account: '123' })).toThrow(/"123" must have exactly 12 digits/);
      expect(() => AccessPrincipal.fromRoleName('R', { partition: 'azure' })).toThrow(/unknown partition "azure"/);
    });

    test('an SSO role ARN must be literal', () => {
      expect(() => AccessPrincipal.fromSsoPermissionSet(Fn.importValue('X'))).toThrow(/must be known at synth time/);
    });
  });

  describe('validation messages say what is wrong and how to fix it', () => {
    test.each([
      ['arn:aws:sts::111122223333:assumed-role/Admin/alice', /STS assumed-role session ARN.*arn:aws:iam::111122223333:role\/Admin/],
      ['arn:aws:iam::111122223333:user/alice', /it is a user ARN. Use AccessPrincipal.fromUserArn/],
      ['arn:aws:iam::111122223333:group/admins', /IAM groups cannot be mapped/],
      ['arn:aws:iam::11112222333:role/Admin', /must have exactly 12 digits \(it has 11\)/],
      ['arn:aws:iam::111122223333:role/*', /wildcards never match/],
      ['arn:aws:iam:us-east-1:111122223333:role/Admin', /IAM ARNs have no region.*arn:aws:iam::111122223333:role\/Admin/],
      ['arn:azure:iam::111122223333:role/Admin', /unknown partition "azure".*aws-eusc/],
      ['arn:aws:iam::111122223333:root', /account root/],
    ])('fromRoleArn(%j)', (arn, error) => {
      expect(() => AccessPrincipal.fromRoleArn(arn)).toThrow(error);
    });
  });
});
