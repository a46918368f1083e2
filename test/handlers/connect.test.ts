import { spawnSync } from 'child_process';
import { createHash, createHmac } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { checkEksToken, startFakeKube } from './fake-kube';
import { MotoServer, startMoto } from './moto';
import { AWS_AUTH_PATH } from '../../src/handlers/access-reconciler/aws-auth';
import { assumeRole, clusterAccessPoint, connect, handle } from '../../src/handlers/access-reconciler/index';
import { AWS_AUTH_RESOURCE_TYPE } from '../../src/handlers/access-reconciler/protocol';
import { dnsSuffix, eksToken, presignGetCallerIdentity } from '../../src/handlers/access-reconciler/token';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzEXAMPLE//token+=' };
const NOW = new Date('2026-11-28T19:51:26.123Z');

/** SHA-256 for smithy's signer, from node:crypto (HMAC when given a key). */
class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: Uint8Array | string) {
    this.hash = secret ? createHmac('sha256', Buffer.from(secret as any)) : createHash('sha256');
  }
  update(data: Uint8Array | string) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {}
}

describe('EKS token', () => {
  test('has the format aws-iam-authenticator reads: k8s-aws-v1.<unpadded base64url of a presigned STS URL>', () => {
    // WHEN
    const token = eksToken({ clusterName: 'my-cluster', region: 'eu-west-1', credentials: CREDENTIALS, now: NOW });

    // THEN
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      'Action': 'GetCallerIdentity',
      'Version': '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261128/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20261128T195126Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': CREDENTIALS.sessionToken,
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(checkEksToken(`Bearer ${token}`)).toBeUndefined();
  });

  test('the signature equals the AWS SDK\'s own SigV4 presigner (@smithy/signature-v4) for the same request', async () => {
    // GIVEN
    const signer = new SignatureV4({ service: 'sts', region: 'eu-west-1', credentials: CREDENTIALS, sha256: NodeSha256 as any, uriEscapePath: true });

    // WHEN
    const presigned = await signer.presign({
      method: 'GET',
      protocol: 'https:',
      hostname: 'sts.eu-west-1.amazonaws.com',
      path: '/',
      headers: { 'host': 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'my-cluster' },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    } as any, { expiresIn: 60, signingDate: NOW });
    const ours = new URL(presignGetCallerIdentity({ clusterName: 'my-cluster', region: 'eu-west-1', credentials: CREDENTIALS, now: NOW }));

    // THEN
    expect(presigned.query!['X-Amz-SignedHeaders']).toBe('host;x-k8s-aws-id');
    expect(ours.searchParams.get('X-Amz-Signature')).toBe(presigned.query!['X-Amz-Signature']);
  });

  test('a different cluster name gives a different signature (the header is signed)', () => {
    const sig = (clusterName: string) => new URL(presignGetCallerIdentity({ clusterName, region: 'us-east-1', credentials: CREDENTIALS, now: NOW })).searchParams.get('X-Amz-Signature');
    expect(sig('a')).not.toBe(sig('b'));
  });

  test.each([
    ['us-east-1', 'amazonaws.com'],
    ['cn-north-1', 'amazonaws.com.cn'],
    ['us-gov-west-1', 'amazonaws.com'],
    ['us-iso-east-1', 'c2s.ic.gov'],
    ['us-isob-east-1', 'sc2s.sgov.gov'],
  ])('STS of %s is under %s', (region, suffix) => {
    expect(dnsSuffix(region)).toBe(suffix);
  });
});

describe('connecting to the cluster', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto.stop();
  });
  const aws = { region: 'us-east-1', endpoint: '', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };

  test('without an endpoint in the properties, eks:DescribeCluster gives the endpoint and CA (real moto EKS API)', async () => {
    // GIVEN: a cluster in moto (an imported cluster whose endpoint the app does not know)
    const eks = new EKSClient({ ...aws, endpoint: moto.endpoint });
    await eks.send(new CreateClusterCommand({
      name: 'imported', roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1'] },
    }));

    // WHEN
    const found = await clusterAccessPoint({ ClusterName: 'imported', RoleArn: 'x' }, eks);
    const given = await clusterAccessPoint({ ClusterName: 'imported', RoleArn: 'x', Endpoint: 'https://given', CertificateAuthorityData: Buffer.from('PEM').toString('base64') }, eks);

    // THEN
    expect(found.endpoint).toMatch(/^https:\/\//);
    expect(found.certificateAuthority.length).toBeGreaterThan(0);
    expect(given).toEqual({ endpoint: 'https://given', certificateAuthority: 'PEM' });
    await expect(clusterAccessPoint({ ClusterName: 'absent', RoleArn: 'x' }, eks)).rejects.toThrow(/absent/);
  });

  test('a delete whose cluster no longer exists succeeds (nothing of ours is left); a create fails', async () => {
    const options = { region: 'us-east-1', eks: new EKSClient({ ...aws, endpoint: moto.endpoint }), sts: new STSClient({ ...aws, endpoint: moto.endpoint }) };
    const event = (RequestType: 'Create' | 'Delete') => ({
      RequestType,
      ResourceType: AWS_AUTH_RESOURCE_TYPE,
      StackId: 's',
      RequestId: 'r',
      LogicalResourceId: 'AwsAuth',
      PhysicalResourceId: RequestType === 'Delete' ? 'owner' : undefined,
      ResourceProperties: { ClusterName: 'gone', RoleArn: 'arn:aws:iam::123456789012:role/Creation', MapRoles: [], MapUsers: [] },
    });
    await expect(handle(event('Delete'), options)).resolves.toEqual({ PhysicalResourceId: 'owner' });
    await expect(handle(event('Create'), options)).rejects.toThrow(/gone/);
  });

  test('a delete whose endpoint does not answer succeeds only when EKS says the cluster is gone', async () => {
    const eks = new EKSClient({ ...aws, endpoint: moto.endpoint });
    await eks.send(new CreateClusterCommand({ name: 'still-there', roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1'] } }));
    const options = { region: 'us-east-1', eks, sts: new STSClient({ ...aws, endpoint: moto.endpoint }) };
    const event = (ClusterName: string) => ({
      RequestType: 'Delete' as const,
      ResourceType: AWS_AUTH_RESOURCE_TYPE,
      StackId: 's',
      RequestId: 'r',
      LogicalResourceId: 'AwsAuth',
      PhysicalResourceId: 'owner',
      // the endpoint of a deleted cluster no longer resolves
      ResourceProperties: { ClusterName, RoleArn: 'arn:aws:iam::123456789012:role/Creation', Endpoint: 'https://deleted.invalid', CertificateAuthorityData: Buffer.from('PEM').toString('base64'), MapRoles: [], MapUsers: [] },
    });
    await expect(handle(event('gone-too'), options)).resolves.toEqual({ PhysicalResourceId: 'owner' });
    await expect(handle(event('still-there'), options)).rejects.toThrow(/deleted.invalid/);
  });

  test('AssumeRole is retried while IAM applies a new trust policy (AccessDenied), other errors are not', async () => {
    const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' });
    let calls = 0;
    const flaky = { send: async () => { if (++calls < 3) throw denied; return { Credentials: { AccessKeyId: 'A', SecretAccessKey: 'S', SessionToken: 'T' } }; } };
    await expect(assumeRole('arn:aws:iam::1:role/x', flaky as any, 1)).resolves.toEqual({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' });
    expect(calls).toBe(3);
    const broken = { send: async () => { throw Object.assign(new Error('throttled'), { name: 'Throttling' }); } };
    await expect(assumeRole('arn:aws:iam::1:role/x', broken as any, 1)).rejects.toThrow('throttled');
    const never = { send: async () => { throw denied; } };
    await expect(assumeRole('arn:aws:iam::1:role/x', never as any, 1, 4)).rejects.toThrow('not authorized');
  });

  test('assumes the role (real moto STS), and talks TLS verified against the cluster CA with an EKS token', async () => {
    // GIVEN: a fake API server with a self-signed certificate (openssl)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-kube-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    expect(made.status).toBe(0);
    const kube = await startFakeKube({ key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') });
    const sts = new STSClient({ ...aws, endpoint: moto.endpoint });
    const connection = {
      ClusterName: 'c',
      RoleArn: 'arn:aws:iam::123456789012:role/Creation',
      Endpoint: kube.endpoint,
      CertificateAuthorityData: fs.readFileSync(cert).toString('base64'),
    };
    try {
      // WHEN
      const api = await connect(connection, { region: 'us-east-1', sts });
      const other = await connect({ ...connection, CertificateAuthorityData: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64') }, { region: 'us-east-1', sts });

      // THEN
      expect((await api.request('GET', AWS_AUTH_PATH)).status).toBe(404);
      await expect(other.request('GET', AWS_AUTH_PATH)).rejects.toThrow();
      expect(kube.log).toHaveLength(1);
    } finally {
      await kube.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
