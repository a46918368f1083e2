import { createHash, createHmac } from 'crypto';

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

/** RFC 3986 encoding as SigV4 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * The URL of an STS GetCallerIdentity request presigned with SigV4 (valid 60 s), with
 * the `x-k8s-aws-id` header (the cluster name) signed in, as aws-iam-authenticator expects.
 */
export function presignGetCallerIdentity(options: EksTokenOptions): string {
  const now = options.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20261128T195126Z
  const date = amzDate.slice(0, 8);
  const host = `sts.${options.region}.${dnsSuffix(options.region)}`;
  const scope = `${date}/${options.region}/sts/aws4_request`;
  const query: Record<string, string> = {
    'Action': 'GetCallerIdentity',
    'Version': '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${options.credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': '60',
    'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    ...(options.credentials.sessionToken ? { 'X-Amz-Security-Token': options.credentials.sessionToken } : {}),
  };
  const canonicalQuery = Object.keys(query).sort().map(k => `${encode(k)}=${encode(query[k])}`).join('&');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${host}\nx-k8s-aws-id:${options.clusterName}\n`,
    'host;x-k8s-aws-id',
    sha256(''),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${options.credentials.secretAccessKey}`, date);
  for (const part of [options.region, 'sts', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return `https://${host}/?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

/** An EKS bearer token: `k8s-aws-v1.` and the presigned URL in unpadded base64url. */
export function eksToken(options: EksTokenOptions): string {
  return `k8s-aws-v1.${Buffer.from(presignGetCallerIdentity(options), 'utf8').toString('base64url')}`;
}
