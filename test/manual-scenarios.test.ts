import { App } from 'aws-cdk-lib';
import { AccessReport } from '../src';
import { TEST_APP_PROPS } from './util';
import { buildManualScenariosStack } from '../examples/app-manual-scenarios';

/** The manual scenarios example, asked through the access report: who can do what. */
describe('examples/app-manual-scenarios.ts', () => {
  const stack = buildManualScenariosStack(new App({ ...TEST_APP_PROPS }));
  const report = AccessReport.fromStack(stack);
  const id = (name: string) => stack.getLogicalId(stack.node.findChild(name).node.defaultChild as any);
  const can = (principalArn: string, verb: string, resource: string, namespace?: string, apiGroup?: string) =>
    report.canI({ principalArn, verb, resource, namespaceName: namespace, apiGroup }).allowed;
  const platformAdmins = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PlatformAdmins_1a2b3c4d5e6f7a8b/jane@example.com';
  const paymentsReaders = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PaymentsReaders_0f1e2d3c4b5a6978/joe@example.com';

  test('the admin role, the break-glass role, the user carol and the admins\' permission set are cluster admins', () => {
    const text = report.toText();
    expect(text).toMatch(/arn:aws:iam::111122223333:user\/admins\/carol\s+carol\s+system:masters\s+aws-auth\s+cluster-admin/);
    expect(can(platformAdmins, 'delete', 'nodes')).toBe(true);
    expect(report.canI({ principalArn: platformAdmins, verb: 'delete', resource: 'nodes' }).reason).toMatch(/cluster admin/);
    // the break-glass role's pathed ARN is mapped path-less: an assumed session of it is admin
    // (the report shows a role created in the app by its construct path)
    expect(JSON.stringify(report.toJson())).toContain('role/<EksAccessManualScenarios/BreakGlass>');
  });

  test('dave administers payments only, and sees nodes in the console', () => {
    const dave = `\${${id('Dave')}.Arn}`; // canI takes the template's form of the ARN
    expect(report.toJson()).toContain('<ARN of EksAccessManualScenarios/Dave>');
    expect(can(dave, 'delete', 'deployments', 'payments', 'apps')).toBe(true);
    expect(can(dave, 'get', 'secrets', 'payments')).toBe(true);
    expect(can(dave, 'list', 'nodes')).toBe(true);
    expect(can(dave, 'delete', 'nodes')).toBe(false);
    expect(can(dave, 'list', 'pods', 'default')).toBe(false);
  });

  test('the readers\' permission set reads payments (no Secrets), lists nodes for the console, and nothing else', () => {
    expect(can(paymentsReaders, 'list', 'pods', 'payments')).toBe(true);
    expect(can(paymentsReaders, 'get', 'secrets', 'payments')).toBe(false);
    expect(can(paymentsReaders, 'list', 'nodes')).toBe(true);
    expect(can(paymentsReaders, 'list', 'pods', 'default')).toBe(false);
    expect(can(paymentsReaders, 'create', 'deployments', 'payments', 'apps')).toBe(false);
  });
});
