import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, AccessPrincipal } from '../src';
import { awsAuth, testCluster, testStack } from './util';

/**
 * The team's shared good and bad inputs (../shared/data). Every bad value must be
 * rejected with an error that names it; every good value accepted (and mapped as listed).
 */
const DATA_DIR = path.join(__dirname, '..', '..', 'shared', 'data');
if (!fs.existsSync(DATA_DIR)) {
  // never skip silently: CI lays shared/ beside the clone
  throw new Error(`the team's shared test data is missing: expected ${DATA_DIR} (shared/ beside the project folder)`);
}
const bad = JSON.parse(fs.readFileSync(path.join(DATA_DIR, 'bad-inputs.json'), 'utf8'));
const good = JSON.parse(fs.readFileSync(path.join(DATA_DIR, 'good-inputs.json'), 'utf8'));

type Case = { value: string; why?: string; mapped?: string };
const cases = (list: Case[]) => list.map(c => [c.value, c] as [string, Case]);

function namesValue(value: string) {
  return expect.objectContaining({ message: expect.stringContaining(JSON.stringify(value)) });
}

describe('bad inputs are rejected with an error naming them', () => {
  test('the data file has every category', () => {
    expect(Object.keys(bad).filter(k => !k.startsWith('_')).sort()).toEqual(['group', 'namespace', 'roleArn', 'ssoRoleArn', 'userArn', 'username']);
  });

  test.each(cases(bad.roleArn))('roleArn %j', (value) => {
    expect(() => AccessPrincipal.fromRoleArn(value)).toThrow(namesValue(value));
  });
  test.each(cases(bad.userArn))('userArn %j', (value) => {
    expect(() => AccessPrincipal.fromUserArn(value)).toThrow(namesValue(value));
  });
  test.each(cases(bad.ssoRoleArn))('ssoRoleArn %j', (value) => {
    expect(() => AccessPrincipal.fromSsoPermissionSet(value)).toThrow(namesValue(value));
  });
  test.each(cases(bad.namespace))('namespace %j', (value) => {
    expect(() => AccessLevel.namespaceView(value)).toThrow(namesValue(value));
  });

  describe('on a grant', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    const role = iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::111122223333:role/Dev');
    test.each(cases(bad.username))('username %j', (value) => {
      expect(() => cluster.grantRole(role, AccessLevel.clusterView(), { username: value }))
        .toThrow(expect.objectContaining({ message: expect.stringMatching(new RegExp(`^Test/Cluster/Cluster/CdkEksAccess: .*${escape(JSON.stringify(value))}`)) }));
    });
    test.each(cases(bad.group))('group %j', (value) => {
      expect(() => cluster.grantRole(role, AccessLevel.clusterView(), { groups: [value] }))
        .toThrow(expect.objectContaining({ message: expect.stringMatching(new RegExp(`^Test/Cluster/Cluster/CdkEksAccess: .*${escape(JSON.stringify(value))}`)) }));
    });
    test('a rejected grant leaves nothing behind', () => {
      expect(cluster.access.grants).toHaveLength(1); // the admin's
      expect(awsAuth(Template.fromStack(stack)).mapRoles).toHaveLength(1);
    });
  });
});

describe('good inputs are accepted and mapped as listed', () => {
  test.each(cases(good.roleArn))('roleArn %j', (value, c) => {
    expectMapped(AccessPrincipal.fromRoleArn(value), 'mapRoles', c.mapped!);
  });
  test.each(cases(good.userArn))('userArn %j', (value, c) => {
    expectMapped(AccessPrincipal.fromUserArn(value), 'mapUsers', c.mapped!);
  });
  test.each(cases(good.ssoRoleArn))('ssoRoleArn %j', (value, c) => {
    expectMapped(AccessPrincipal.fromSsoPermissionSet(value), 'mapRoles', c.mapped!);
  });
  test.each(cases(good.namespace))('namespace %j', (value) => {
    expect(AccessLevel.namespaceView(value).namespaceName).toBe(value);
  });

  describe('on a grant', () => {
    test.each(cases(good.username))('username %j', (value) => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.clusterView(), { username: value });
      expect(awsAuth(Template.fromStack(stack)).mapRoles).toContainEqual(expect.objectContaining({ rolearn: 'arn:aws:iam::111122223333:role/Dev', username: value }));
    });
    test.each(cases(good.group))('group %j', (value) => {
      const stack = testStack();
      const cluster = testCluster(stack);
      cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev'), AccessLevel.clusterView(), { groups: [value] });
      expect(awsAuth(Template.fromStack(stack)).mapRoles).toContainEqual(expect.objectContaining({ groups: expect.arrayContaining([value, 'cdk-eks-access:cluster-view']) }));
    });
  });
});

function expectMapped(principal: AccessPrincipal, list: 'mapRoles' | 'mapUsers', mapped: string) {
  const stack = testStack();
  const cluster = testCluster(stack);
  cluster.grant(principal, AccessLevel.clusterView());
  const entries = awsAuth(Template.fromStack(stack))[list];
  expect(entries.map(e => e.rolearn ?? e.userarn)).toContain(mapped);
}

function escape(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
