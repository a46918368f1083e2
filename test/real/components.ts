import { REAL_ENV, REAL_OFF, RealComponents } from './start';
import { HttpKubeApi, KubeApi } from '../../src/handlers/access-reconciler/kube';

/**
 * The real components in a test (started by test/real/global-setup.ts). A test judged by one
 * says so in its describe block's name, and uses `describeReal` so that only a developer's
 * quick run with CDK_EKS_ACCESS_REAL=off skips it; any other run without them fails.
 */
export function realComponents(): RealComponents {
  const value = process.env[REAL_ENV];
  if (!value || value === REAL_OFF) {
    throw new Error(`the real components are not running (${REAL_ENV} is ${value ?? 'unset'}): run the tests through jest, whose globalSetup (test/real/global-setup.ts) starts them`);
  }
  return JSON.parse(value);
}

/** `describe`, or `describe.skip` in a developer's quick run with CDK_EKS_ACCESS_REAL=off. */
export const describeReal: jest.Describe = process.env[REAL_ENV] === REAL_OFF ? describe.skip : describe;

/** A client of the real API server as system:masters (the reconciler's standing on EKS). */
export function realKubeApi(): KubeApi {
  const real = realComponents();
  return new HttpKubeApi({ endpoint: real.apiServer.url, token: real.apiServer.token, certificateAuthority: real.apiServer.ca });
}

/** One caller's answer from aws-iam-authenticator's own code. */
export interface AuthenticatorMapping {
  readonly from: 'mapRoles' | 'mapUsers';
  readonly username: string;
  readonly groups: string[];
}
export interface AuthenticatorCallerAnswer {
  readonly caller: string;
  readonly canonical?: string;
  readonly error?: string;
  /** Every answer the release may give: none (not mapped), one, or several (ambiguous). */
  readonly mappings: AuthenticatorMapping[];
  readonly accountAllowed: boolean;
}
export interface AuthenticatorAnswer {
  readonly version: string;
  /** Each section that `configmap.ParseMap` reports an error for, with the error. */
  readonly sectionErrors: Partial<Record<'mapRoles' | 'mapUsers' | 'mapAccounts', string>>;
  readonly roles: number;
  readonly users: number;
  readonly callers: AuthenticatorCallerAnswer[];
}

/**
 * Asks aws-iam-authenticator's released reader and mapper what `data` (aws-auth's data) maps
 * each caller to. `ssoRoleMatch` turns on the release's SSORoleMatch feature gate (default: on,
 * the reading under which `sso:` mappings can match at all).
 */
export async function askAuthenticator(data: Record<string, string>, callers: string[], ssoRoleMatch = true): Promise<AuthenticatorAnswer> {
  const res = await fetch(realComponents().authenticatorUrl, { method: 'POST', body: JSON.stringify({ data, callers, ssoRoleMatch }) });
  if (!res.ok) throw new Error(`aws-iam-authenticator reader answered ${res.status}: ${await res.text()}`);
  return await res.json() as AuthenticatorAnswer;
}

/**
 * Whether the authenticator dropped a whole section, from the error `configmap.ParseMap`
 * reported for it: YAML that does not parse or convert to JSON, or not a list. (An error
 * about one field's type keeps the section.)
 */
export function droppedWhole(error: string | undefined): boolean {
  return error !== undefined && /error converting YAML to JSON|yaml: |json: unsupported value|map key|Go value of type \[\]config\./.test(error);
}
