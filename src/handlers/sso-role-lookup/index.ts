/* eslint-disable import/no-extraneous-dependencies */
// The AWS SDK v3 is provided by the Lambda Node.js runtime (esbuild keeps it external);
// it is a devDependency here for types and tests only.
import { IAMClient, ListRolesCommand, Role } from '@aws-sdk/client-iam';

/**
 * Custom resource `Custom::CdkEksAccessSsoRole`: finds the IAM role that IAM Identity
 * Center created for a permission set in this account.
 *
 * Lists the roles under `/aws-reserved/sso.amazonaws.com/` (regional sub-paths included)
 * and picks the one named `AWSReservedSSO_<PermissionSetName>_<16 hex digits>`. None, or
 * more than one, fails the deploy with the list of what was found.
 */

export const SSO_PATH_PREFIX = '/aws-reserved/sso.amazonaws.com/';

interface Event {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly PermissionSetName: string; readonly Refresh?: string };
}

export interface Result {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly Arn: string; readonly PathlessArn: string; readonly RoleName: string; readonly Path: string };
}

const NAME = /^[\w+=,.@-]{1,32}$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** All roles under the SSO path prefix, following IAM's pagination. */
export async function listSsoRoles(client: IAMClient): Promise<Role[]> {
  const roles: Role[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListRolesCommand({ PathPrefix: SSO_PATH_PREFIX, Marker: marker, MaxItems: 100 }));
    roles.push(...(page.Roles ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return roles;
}

/** The one role of `permissionSetName` among `roles`, or an error listing what was found. */
export function pickRole(roles: Role[], permissionSetName: string): Role {
  const pattern = new RegExp(`^AWSReservedSSO_${escapeRegExp(permissionSetName)}_[0-9a-f]{16}$`);
  const matches = roles.filter(r => r.RoleName !== undefined && pattern.test(r.RoleName));
  if (matches.length === 1) return matches[0];
  const found = roles.map(r => `${r.Path}${r.RoleName}`).sort();
  const listing = found.length === 0 ? 'no roles at all' : found.join(', ');
  if (matches.length === 0) {
    throw new Error(`No IAM Identity Center role for permission set "${permissionSetName}" (AWSReservedSSO_${permissionSetName}_<16 hex>) under ${SSO_PATH_PREFIX} in this account; found ${listing}. Is the permission set provisioned to this account, and is the name exact (case-sensitive)?`);
  }
  throw new Error(`${matches.length} IAM Identity Center roles match permission set "${permissionSetName}": ${matches.map(r => r.Arn).sort().join(', ')}. Expected exactly one; grant by role ARN (AccessPrincipal.fromSsoPermissionSet) to choose one.`);
}

/** The Lambda entry point (the CDK entrypoint wrapper passes the event and the Lambda context). */
export async function handler(event: Event): Promise<Result> {
  return lookup(event, new IAMClient({}));
}

/** Handles one custom-resource event with the given IAM client. */
export async function lookup(event: Event, client: IAMClient): Promise<Result> {
  if (event.RequestType === 'Delete') {
    // nothing was created: the role belongs to IAM Identity Center
    return { PhysicalResourceId: event.PhysicalResourceId ?? 'none' };
  }
  const name = event.ResourceProperties.PermissionSetName;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new Error(`PermissionSetName ${JSON.stringify(name)} is not a permission-set name ([\\w+=,.@-]{1,32})`);
  }
  const role = pickRole(await listSsoRoles(client), name);
  const arn = role.Arn!;
  const pathless = arn.replace(/:role\/.*\/([^/]+)$/, ':role/$1');
  return {
    // the role's ARN: a re-provisioned permission set (new suffix) is a new physical resource
    PhysicalResourceId: arn,
    Data: { Arn: arn, PathlessArn: pathless, RoleName: role.RoleName!, Path: role.Path! },
  };
}
