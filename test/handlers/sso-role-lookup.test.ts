import { CreateRoleCommand, DeleteRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { MotoServer, startMoto } from './moto';
import { listSsoRoles, lookup } from '../../src/handlers/sso-role-lookup';

/** The handler against a real (moto) IAM API on loopback. */
let moto: MotoServer;
let iam: IAMClient;

const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::123456789012:saml-provider/AWSSSO_x_DO_NOT_DELETE' }, Action: 'sts:AssumeRoleWithSAML' }] });

async function createRole(path: string, name: string) {
  await iam.send(new CreateRoleCommand({ Path: path, RoleName: name, AssumeRolePolicyDocument: TRUST }));
}

async function deleteAllRoles() {
  let marker: string | undefined;
  const names: string[] = [];
  do {
    const page = await iam.send(new ListRolesCommand({ Marker: marker }));
    names.push(...(page.Roles ?? []).map(r => r.RoleName!));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  for (const name of names) await iam.send(new DeleteRoleCommand({ RoleName: name }));
}

const event = (name: string, type: 'Create' | 'Update' | 'Delete' = 'Create') => ({
  RequestType: type,
  PhysicalResourceId: type === 'Create' ? undefined : 'arn:aws:iam::123456789012:role/old',
  ResourceProperties: { PermissionSetName: name },
});

beforeAll(async () => {
  moto = await startMoto();
  iam = new IAMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
}, 60_000);

afterAll(async () => {
  iam?.destroy();
  await moto?.stop();
});

beforeEach(deleteAllRoles);

describe('SSO role lookup handler (moto IAM)', () => {
  test('one match: full ARN, path-less ARN, name; physical id is the role ARN', async () => {
    await createRole('/aws-reserved/sso.amazonaws.com/us-east-2/', 'AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01');
    await createRole('/aws-reserved/sso.amazonaws.com/', 'AWSReservedSSO_AdministratorAccess_0123456789abcdef');
    await createRole('/', 'AWSReservedSSO_ViewOnlyAccess_ffffffffffffffff'); // right name, not under the SSO path
    const result = await lookup(event('ViewOnlyAccess'), iam);
    expect(result).toEqual({
      PhysicalResourceId: 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01',
      Data: {
        Arn: 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01',
        PathlessArn: 'arn:aws:iam::123456789012:role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01',
        RoleName: 'AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01',
        Path: '/aws-reserved/sso.amazonaws.com/us-east-2/',
      },
    });
  });

  test('none: fails and lists what was found', async () => {
    await createRole('/aws-reserved/sso.amazonaws.com/', 'AWSReservedSSO_AdministratorAccess_0123456789abcdef');
    await expect(lookup(event('ViewOnlyAccess'), iam)).rejects.toThrow(/No IAM Identity Center role for permission set "ViewOnlyAccess".*found \/aws-reserved\/sso.amazonaws.com\/AWSReservedSSO_AdministratorAccess_0123456789abcdef/);
  });

  test('two (two regional paths): fails and lists both', async () => {
    await createRole('/aws-reserved/sso.amazonaws.com/us-east-2/', 'AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01');
    await createRole('/aws-reserved/sso.amazonaws.com/eu-west-1/', 'AWSReservedSSO_ViewOnlyAccess_1111111111111111');
    await expect(lookup(event('ViewOnlyAccess'), iam)).rejects.toThrow(/2 IAM Identity Center roles match permission set "ViewOnlyAccess": .*eu-west-1\/AWSReservedSSO_ViewOnlyAccess_1111111111111111, .*us-east-2\/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01/);
  });

  test('a longer name sharing the prefix is not a match (ViewOnly vs ViewOnlyAccess)', async () => {
    await createRole('/aws-reserved/sso.amazonaws.com/', 'AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01');
    await createRole('/aws-reserved/sso.amazonaws.com/', 'AWSReservedSSO_ViewOnly_0123456789abcdef');
    expect((await lookup(event('ViewOnly'), iam)).Data!.RoleName).toBe('AWSReservedSSO_ViewOnly_0123456789abcdef');
    expect((await lookup(event('ViewOnlyAccess'), iam)).Data!.RoleName).toBe('AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01');
  });

  test('paginates over more than 100 roles', async () => {
    for (let i = 0; i < 130; i++) {
      await createRole('/aws-reserved/sso.amazonaws.com/', `AWSReservedSSO_Team${String(i).padStart(3, '0')}_${i.toString(16).padStart(16, '0')}`);
    }
    // the server really pages (so the handler's Marker loop is what finds the rest)
    const first = await iam.send(new ListRolesCommand({ PathPrefix: '/aws-reserved/sso.amazonaws.com/', MaxItems: 100 }));
    expect(first.Roles).toHaveLength(100);
    expect(first.IsTruncated).toBe(true);
    expect((await listSsoRoles(iam)).length).toBe(130);
    expect((await lookup(event('Team129'), iam)).Data!.RoleName).toBe(`AWSReservedSSO_Team129_${(129).toString(16).padStart(16, '0')}`);
  }, 120_000);

  test('update looks up again; delete changes nothing', async () => {
    await createRole('/aws-reserved/sso.amazonaws.com/', 'AWSReservedSSO_Dev_0123456789abcdef');
    expect((await lookup(event('Dev', 'Update'), iam)).PhysicalResourceId).toMatch(/AWSReservedSSO_Dev_0123456789abcdef$/);
    expect(await lookup(event('Dev', 'Delete'), iam)).toEqual({ PhysicalResourceId: 'arn:aws:iam::123456789012:role/old' });
  });

  test('a malformed name is refused', async () => {
    await expect(lookup(event('bad name'), iam)).rejects.toThrow(/is not a permission-set name/);
  });
});
