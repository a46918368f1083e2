import { spawnSync } from 'child_process';
import { createHash, createHmac } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { checkEksToken, FakeKube, startFakeKube } from './fake-kube';
import { MotoServer, startMoto } from './moto';
import { AWS_AUTH_PATH } from '../../src/handlers/access-reconciler/aws-auth';
import {
  AWS_CONNECT_TIMEOUT_MS, AWS_REQUEST_TIMEOUT_MS, assumeRole, awsClientConfig, clusterAccessPoint, connect, describeStackStatus, handle, handler,
  listStackResources, waitUntilAuthorized,
} from '../../src/handlers/access-reconciler/index';
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

/**
 * SigV4 of a presigned GET, recomputed here from the AWS spec with node:crypto
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), independently
 * of the product's signer: canonical request, string to sign, derived key, signature.
 */
function sigV4Signature(url: URL, headers: Record<string, string>, secretAccessKey: string): string {
  const q = url.searchParams;
  const enc = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const signedHeaders = q.get('X-Amz-SignedHeaders')!.split(';');
  const canonicalQuery = Array.from(q.entries()).filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
  const canonicalHeaders = signedHeaders.map(h => `${h}:${headers[h].trim()}\n`).join('');
  const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
  const canonicalRequest = ['GET', url.pathname, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), sha256('')].join('\n');
  const [, date, region, service, terminator] = q.get('X-Amz-Credential')!.split('/');
  const scope = [date, region, service, terminator].join('/');
  const stringToSign = ['AWS4-HMAC-SHA256', q.get('X-Amz-Date')!, scope, sha256(canonicalRequest)].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secretAccessKey}`).update(date).digest();
  for (const part of [region, service, terminator]) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** The presigned URL inside an EKS token. */
function urlOf(token: string): URL {
  expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

describe('EKS token', () => {
  test('has the format aws-iam-authenticator reads: k8s-aws-v1.<unpadded base64url of a presigned STS URL> with the fields it checks', async () => {
    // WHEN
    const token = await eksToken({ clusterName: 'my-cluster', region: 'eu-west-1', credentials: CREDENTIALS, now: NOW });

    // THEN
    const url = urlOf(token);
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
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

  test('without a session token there is no X-Amz-Security-Token', async () => {
    const { sessionToken: _, ...longTerm } = CREDENTIALS;
    const url = urlOf(await eksToken({ clusterName: 'my-cluster', region: 'us-east-1', credentials: longTerm, now: NOW }));
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(false);
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261128/us-east-1/sts/aws4_request');
  });

  test.each([
    ['eu-west-1', CREDENTIALS],
    ['cn-north-1', CREDENTIALS],
    ['us-east-1', { accessKeyId: 'AKIDLONGTERM', secretAccessKey: 'another/secret+key' }],
  ])('the signature in %s is SigV4 over host and x-k8s-aws-id, recomputed independently from the spec', async (region, credentials) => {
    // WHEN
    const url = urlOf(await eksToken({ clusterName: 'my-cluster', region, credentials, now: NOW }));

    // THEN
    const headers = { 'host': url.host, 'x-k8s-aws-id': 'my-cluster' };
    expect(url.host).toBe(`sts.${region}.${dnsSuffix(region)}`);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(sigV4Signature(url, headers, credentials.secretAccessKey));
    // a token for another cluster, another secret or another date does not verify
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(sigV4Signature(url, { ...headers, 'x-k8s-aws-id': 'other' }, credentials.secretAccessKey));
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(sigV4Signature(url, headers, `${credentials.secretAccessKey}x`));
  });

  test('signs exactly the GetCallerIdentity GET with the cluster header, valid 60 s: the SDK\'s presign of that request agrees', async () => {
    // GIVEN: the request as aws-iam-authenticator's own client builds it
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
    const ours = new URL(await presignGetCallerIdentity({ clusterName: 'my-cluster', region: 'eu-west-1', credentials: CREDENTIALS, now: NOW }));

    // THEN
    expect(Object.fromEntries(ours.searchParams)).toEqual(presigned.query);
  });

  test('a different cluster name gives a different signature (the header is signed)', async () => {
    const sig = async (clusterName: string) => new URL(await presignGetCallerIdentity({ clusterName, region: 'us-east-1', credentials: CREDENTIALS, now: NOW })).searchParams.get('X-Amz-Signature');
    expect(await sig('a')).not.toBe(await sig('b'));
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

  test('the stack\'s status is read with cloudformation:DescribeStacks on the event\'s stack id (real moto CloudFormation API)', async () => {
    const cfn = new CloudFormationClient({ ...aws, endpoint: moto.endpoint });
    const template = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } });
    const { StackId } = await cfn.send(new CreateStackCommand({ StackName: 'app', TemplateBody: template }));
    expect(await describeStackStatus(StackId!, cfn)).toBe('CREATE_COMPLETE');
    await cfn.send(new DeleteStackCommand({ StackName: StackId! }));
    expect(await describeStackStatus(StackId!, cfn)).toBe('DELETE_COMPLETE');
    // unknown (the handler then keeps what an undo keeps)
    expect(await describeStackStatus('arn:aws:cloudformation:us-east-1:123456789012:stack/nope/1', cfn)).toBeUndefined();
  });

  test('the stack\'s resources are read with cloudformation:ListStackResources on the event\'s stack id, every page (real moto CloudFormation API)', async () => {
    // GIVEN a stack of 7 resources in moto
    const cfn = new CloudFormationClient({ ...aws, endpoint: moto.endpoint });
    const ids = ['Topic0', 'Topic1', 'Topic2', 'Queue0', 'Queue1', 'Queue2', 'Queue3'];
    const template = JSON.stringify({ Resources: Object.fromEntries(ids.map(id => [id, { Type: id.startsWith('Topic') ? 'AWS::SNS::Topic' : 'AWS::SQS::Queue' }])) });
    const { StackId } = await cfn.send(new CreateStackCommand({ StackName: 'listed', TemplateBody: template }));
    // moto answers every resource on one page (it never sends a NextToken: moto/cloudformation/responses.py);
    // CloudFormation pages at 1 MB, so this middleware pages moto's real answer 3 at a time with NextTokens
    const pages: Array<string | undefined> = [];
    cfn.middlewareStack.add((next, ctx) => async (args: any) => {
      if (ctx.commandName !== 'ListStackResourcesCommand') return next(args);
      const from = Number(args.input.NextToken ?? 0);
      pages.push(args.input.NextToken);
      const res: any = await next({ ...args, input: { StackName: args.input.StackName } });
      const all = res.output.StackResourceSummaries ?? [];
      const to = from + 3;
      return { ...res, output: { ...res.output, StackResourceSummaries: all.slice(from, to), NextToken: to < all.length ? String(to) : undefined } };
    }, { step: 'initialize', name: 'pager' });

    // WHEN
    const listed = await listStackResources(StackId!, cfn);

    // THEN every logical id, of every page, with its type and status
    expect(pages).toEqual([undefined, '3', '6']);
    expect(listed!.map(r => r.logicalId).sort()).toEqual([...ids].sort());
    expect(listed!.find(r => r.logicalId === 'Topic0')).toEqual({ logicalId: 'Topic0', type: 'AWS::SNS::Topic', status: 'CREATE_COMPLETE', physicalId: expect.stringMatching(/^arn:aws:sns:us-east-1:123456789012:listed-Topic0-/) });
    // a stack that cannot be read: unknown (the handler then keeps every claim), not an empty list
    expect(await listStackResources('arn:aws:cloudformation:us-east-1:123456789012:stack/nope/1', cfn)).toBeUndefined();
  });

  test('a listing that cannot be read to its end is unknown, not a shorter list', async () => {
    const cfn = new CloudFormationClient({ ...aws, endpoint: moto.endpoint });
    const template = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } });
    const { StackId } = await cfn.send(new CreateStackCommand({ StackName: 'paged', TemplateBody: template }));
    let calls = 0;
    cfn.middlewareStack.add((next, ctx) => async (args: any) => {
      if (ctx.commandName !== 'ListStackResourcesCommand') return next(args);
      if (++calls > 1) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      const res: any = await next(args);
      return { ...res, output: { ...res.output, NextToken: 'more' } };
    }, { step: 'initialize', name: 'failing-second-page' });
    expect(await listStackResources(StackId!, cfn)).toBeUndefined();
    expect(calls).toBe(2);
  });

  test('eks:DescribeCluster gives the endpoint and CA, whatever the properties say (real moto EKS API)', async () => {
    // GIVEN: a cluster in moto
    const eks = new EKSClient({ ...aws, endpoint: moto.endpoint });
    await eks.send(new CreateClusterCommand({
      name: 'imported', roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1'] },
    }));

    // WHEN
    const found = await clusterAccessPoint({ ClusterName: 'imported', RoleArn: 'x' }, eks);
    const given = await clusterAccessPoint({ ClusterName: 'imported', RoleArn: 'x', Endpoint: 'https://given', CertificateAuthorityData: Buffer.from('PEM').toString('base64') } as any, eks);

    // THEN
    expect(found!.endpoint).toMatch(/^https:\/\//);
    expect(found!.certificateAuthority.length).toBeGreaterThan(0);
    expect(given).toEqual(found);
    await expect(clusterAccessPoint({ ClusterName: 'absent', RoleArn: 'x' }, eks)).resolves.toBeUndefined();
  });

  test('the token goes only to the endpoint EKS names, never to one the properties name, and only over https', async () => {
    await tlsKube(async (kube, connection) => {
      // GIVEN: properties naming another endpoint (plain http, listening and logging), and an
      // EKS that knows the cluster at the TLS fake
      const other = await startFakeKube();
      try {
        const event = awsAuthCreate({ ...connection, Endpoint: other.endpoint });
        const sts = new STSClient({ ...aws, endpoint: moto.endpoint });

        // WHEN
        await handle(event, { region: 'us-east-1', sts, eks: describing(kube.endpoint, connection.CertificateAuthorityData) });
        const plain = handle(event, { region: 'us-east-1', sts, eks: describing(other.endpoint, connection.CertificateAuthorityData) });

        // THEN
        expect(kube.log.length).toBeGreaterThan(0);
        await expect(plain).rejects.toThrow(/returned the endpoint "http:\/\/127\.0\.0\.1:\d+", which is not https:\/\//);
        expect(other.log).toEqual([]);
      } finally {
        await other.close();
      }
    });
  });

  test('every AWS client of the Lambda entry point gives up on an endpoint that never answers, within the invocation', async () => {
    // GIVEN: AWS endpoints (EKS, STS, CloudFormation) that accept connections and never answer
    const sockets: net.Socket[] = [];
    const silent = net.createServer(socket => sockets.push(socket));
    await new Promise<void>(r => silent.listen(0, '127.0.0.1', r));
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    try {
      // WHEN: an invocation with 2 s left
      const event = awsAuthCreate({ ClusterName: 'c' });
      const answer = handler(event, { getRemainingTimeInMillis: () => 2000 });

      // THEN: the call fails, naming the resource, instead of holding the Lambda
      await expect(answer).rejects.toThrow(/^AwsAuth \(Create\): /);
      expect(awsClientConfig('us-east-1', 2000).requestHandler).toEqual({ connectionTimeout: 250, requestTimeout: 250, throwOnRequestTimeout: true });
      expect(awsClientConfig('us-east-1').requestHandler).toEqual({ connectionTimeout: AWS_CONNECT_TIMEOUT_MS, requestTimeout: AWS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true });
    } finally {
      process.env = saved;
      sockets.forEach(s => s.destroy());
      await new Promise(r => silent.close(r));
    }
  }, 30_000);

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
      ResourceProperties: { ClusterName, RoleArn: 'arn:aws:iam::123456789012:role/Creation', MapRoles: [], MapUsers: [] },
    });
    // the endpoint of the cluster that is still there does not resolve
    const unreachable = { send: async (c: any) => c.input.name === 'still-there' ? describingAnswer('https://deleted.invalid', Buffer.from('PEM').toString('base64')) : eks.send(c) };
    await expect(handle(event('gone-too'), { ...options, eks: unreachable as any })).resolves.toEqual({ PhysicalResourceId: 'owner' });
    await expect(handle(event('still-there'), { ...options, eks: unreachable as any }, { attempts: 2, baseDelayMs: 1 })).rejects.toThrow(/deleted.invalid/);
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

  /** A Create of the aws-auth resource with `properties` (and the creation role, no entries). */
  function awsAuthCreate(properties: Record<string, unknown>) {
    return {
      RequestType: 'Create' as const,
      ResourceType: AWS_AUTH_RESOURCE_TYPE,
      StackId: 's',
      RequestId: 'r',
      LogicalResourceId: 'AwsAuth',
      ResourceProperties: { RoleArn: 'arn:aws:iam::123456789012:role/Creation', MapRoles: [], MapUsers: [], ...properties } as Record<string, any>,
    };
  }

  /** What eks:DescribeCluster answers for a cluster at `endpoint` with the CA `caData` (base64). */
  function describingAnswer(endpoint: string, caData: string) {
    return { cluster: { name: 'c', status: 'ACTIVE', endpoint, certificateAuthority: { data: caData } } };
  }

  /** An EKS client whose DescribeCluster answers with `endpoint` and `caData`. */
  function describing(endpoint: string, caData: string): EKSClient {
    return { send: async () => describingAnswer(endpoint, caData) } as any;
  }

  /** A fake API server with a self-signed certificate (openssl), and the connection properties for it (the endpoint as EKS would give it). */
  type TlsConnection = { ClusterName: string; Endpoint: string; CertificateAuthorityData: string };
  async function tlsKube(run: (kube: FakeKube, connection: TlsConnection) => Promise<void>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-kube-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    expect(made.status).toBe(0);
    const kube = await startFakeKube({ key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') });
    try {
      await run(kube, { ClusterName: 'c', Endpoint: kube.endpoint, CertificateAuthorityData: fs.readFileSync(cert).toString('base64') });
    } finally {
      await kube.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('assumes the role (real moto STS), and talks TLS verified against the cluster CA with an EKS token', async () => {
    await tlsKube(async (kube, base) => {
      const sts = new STSClient({ ...aws, endpoint: moto.endpoint });
      const connection = { ...base, RoleArn: 'arn:aws:iam::123456789012:role/Creation' };
      // WHEN
      const api = await connect(connection, { region: 'us-east-1', sts, eks: describing(base.Endpoint, base.CertificateAuthorityData) });
      const wrongCa = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
      const other = await connect(connection, { region: 'us-east-1', sts, eks: describing(base.Endpoint, wrongCa) });

      // THEN
      expect((await api.request('GET', AWS_AUTH_PATH)).status).toBe(404);
      await expect(other.request('GET', AWS_AUTH_PATH)).rejects.toThrow();
      expect(kube.log).toHaveLength(1);
    });
  });

  test('without RoleArn (aws-eks-v2) it signs as itself, assumes nothing, and waits while its new access entry answers 401 or 403', async () => {
    await tlsKube(async (kube, connection) => {
      // GIVEN: an STS client that would fail any call (no AssumeRole may happen), with the
      // Lambda's own credentials; the cluster refuses twice (the entry, then its policy, propagating)
      const sts = new STSClient({ region: 'us-east-1', endpoint: 'https://sts.invalid', credentials: { accessKeyId: 'OWN', secretAccessKey: 'secret', sessionToken: 'session' } });
      kube.faults.push({ status: 401 }, { status: 403 });

      // WHEN
      const api = await connect(connection, { region: 'us-east-1', sts, eks: describing(connection.Endpoint, connection.CertificateAuthorityData), unauthorizedDelayMs: 1 });

      // THEN: a request that needs cluster-wide permission, tried until it is not refused
      expect(kube.log.map(l => `${l.method} ${l.path} ${l.status}`)).toEqual([
        'GET /api/v1/namespaces 401', 'GET /api/v1/namespaces 403', 'GET /api/v1/namespaces 200',
      ]);
      expect((await api.request('GET', AWS_AUTH_PATH)).status).toBe(404);
    });
  });

  test('the wait signs a new token for every try (the API server caches refusals per token), retries unreachable tries, and gives up with the reason', async () => {
    const answers: Array<number | Error> = [401, new Error('socket hang up'), 403, 200];
    let made = 0;
    const api = await waitUntilAuthorized(async () => {
      made++;
      return { request: async () => { const a = answers.shift()!; if (a instanceof Error) throw a; return { status: a, body: {} }; } };
    }, 1, 10);
    expect(made).toBe(4);
    expect(api).toBeDefined();
    let tries = 0;
    await expect(waitUntilAuthorized(async () => ({ request: async () => { tries++; return { status: 403, body: {} }; } }), 1, 3))
      .rejects.toThrow(/still refuses the handler's own role after 3 tries.*403 Forbidden.*AmazonEKSClusterAdminPolicy/);
    expect(tries).toBe(3);
  });

});
