import * as fs from 'fs';
import * as path from 'path';
import { CustomResource, CustomResourceProvider, CustomResourceProviderRuntime, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { constructError, show } from './errors';

/** The bundled handler (built by the `bundle:handlers` task; shipped in the package). */
const HANDLER_DIR = path.join(__dirname, '..', '..', 'assets', 'sso-role-lookup');
const PROVIDER_TYPE = 'Custom::CdkEksAccessSsoRoleLookup';

/**
 * Finds the IAM role of an IAM Identity Center permission set at deploy time (one custom
 * resource per permission set and stack). Exposes the role's full ARN, its path-less ARN
 * and its name as CloudFormation attributes.
 */
export class SsoRoleLookup extends Construct {
  /** The lookup for `permissionSetName` under `scope`, created on first use. */
  public static of(scope: Construct, permissionSetName: string, refresh: string | undefined): SsoRoleLookup {
    const id = `SsoRole-${permissionSetName}`;
    const existing = scope.node.tryFindChild(id);
    if (existing instanceof SsoRoleLookup) {
      if (existing.refresh !== refresh) {
        throw constructError(scope, `permission set ${show(permissionSetName)} is granted by name with different refresh values (${show(existing.refresh)} and ${show(refresh)}); one lookup serves every grant of it. Give every grant the same refresh value.`);
      }
      return existing;
    }
    return new SsoRoleLookup(scope, id, permissionSetName, refresh);
  }

  /** The role's ARN with its path (for access entries). */
  public readonly arn: string;
  /** The role's ARN without its path (for aws-auth). */
  public readonly pathlessArn: string;
  /** The role's name, `AWSReservedSSO_<name>_<hex>`. */
  public readonly roleName: string;

  private constructor(scope: Construct, id: string, permissionSetName: string, private readonly refresh: string | undefined) {
    super(scope, id);
    if (!fs.existsSync(path.join(HANDLER_DIR, 'index.js'))) {
      throw constructError(this, `the SSO role lookup handler is missing at ${HANDLER_DIR}; it is bundled at build time (npx projen bundle:handlers).`);
    }
    const stack = Stack.of(this);
    const provider = CustomResourceProvider.getOrCreateProvider(this, PROVIDER_TYPE, {
      codeDirectory: HANDLER_DIR,
      runtime: CustomResourceProviderRuntime.NODEJS_22_X,
      description: 'cdk-eks-access: finds the IAM Identity Center role of a permission set (iam:ListRoles)',
      policyStatements: [{
        Effect: 'Allow',
        Action: 'iam:ListRoles',
        // as narrow as IAM allows for ListRoles: the SSO path prefix of this account
        Resource: `arn:${stack.partition}:iam::${stack.account}:role/aws-reserved/sso.amazonaws.com/*`,
      }],
    });
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::CdkEksAccessSsoRole',
      properties: { PermissionSetName: permissionSetName, ...(refresh !== undefined ? { Refresh: refresh } : {}) },
    });
    this.arn = resource.getAttString('Arn');
    this.pathlessArn = resource.getAttString('PathlessArn');
    this.roleName = resource.getAttString('RoleName');
  }
}
