/* eslint-disable import/no-extraneous-dependencies */
// bundled into the handler by esbuild (only @aws-sdk/* is external), so devDependencies
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface EksTokenOptions {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** @default - now */
  readonly now?: Date;
}

/** The DNS suffix of a region's partition (STS is regional, and per partition). */
export function dnsSuffix(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov';
  if (region.startsWith('us-isof-')) return 'csp.hci.ic.gov';
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov';
  if (region.startsWith('eu-isoe-')) return 'cloud.adc-e.uk';
  if (region.startsWith('eusc-')) return 'amazonaws.eu';
  return 'amazonaws.com';
}

/** RFC 3986 encoding of a query key or value, as SigV4 signs it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The URL of an STS GetCallerIdentity request presigned with SigV4 (valid 60 s), with
 * the `x-k8s-aws-id` header (the cluster name) signed in, as aws-iam-authenticator expects.
 * Signed by the AWS SDK's own signer (`@smithy/signature-v4`, bundled into the handler).
 */
export async function presignGetCallerIdentity(options: EksTokenOptions): Promise<string> {
  const host = `sts.${options.region}.${dnsSuffix(options.region)}`;
  const signer = new SignatureV4({
    service: 'sts',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
    uriEscapePath: true,
  });
  const presigned = await signer.presign({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    headers: { 'host': host, 'x-k8s-aws-id': options.clusterName },
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
  }, { expiresIn: 60, signingDate: options.now ?? new Date() });
  const query = presigned.query ?? {};
  const search = Object.keys(query).sort()
    .map(k => {
      const v = query[k];
      if (typeof v !== 'string') throw new Error(`unexpected query parameter ${k} in the presigned STS request`);
      return `${encode(k)}=${encode(v)}`;
    })
    .join('&');
  return `https://${host}/?${search}`;
}

/** An EKS bearer token: `k8s-aws-v1.` and the presigned URL in unpadded base64url. */
export async function eksToken(options: EksTokenOptions): Promise<string> {
  return `k8s-aws-v1.${Buffer.from(await presignGetCallerIdentity(options), 'utf8').toString('base64url')}`;
}
