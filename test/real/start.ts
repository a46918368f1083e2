import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { recordBaseline } from './baseline';

/**
 * Starts the real components once per test run (jest's globalSetup): etcd and kube-apiserver
 * of the pinned Kubernetes release, and aws-iam-authenticator's reader (test/real/authenticator),
 * each on 127.0.0.1 with free ports. What the workers need to reach them goes into
 * `process.env[REAL_ENV]` (jest forks its workers after globalSetup, so they inherit it).
 * `stopComponents` ends them (globalTeardown, and any failure on the way up).
 */
export const REAL_ENV = 'CDK_EKS_ACCESS_REAL';
/** `CDK_EKS_ACCESS_REAL=off`: a developer's quick run without them; `.ci/run` refuses it. */
export const REAL_OFF = 'off';

export interface RealApiServer {
  readonly url: string;
  readonly token: string;
  readonly ca: string;
  readonly caFile: string;
}

export interface RealComponents {
  readonly dir: string;
  /** The API server the test/real tests share (with the clusterrole-aggregation controller). */
  readonly apiServer: RealApiServer;
  /**
   * Two API servers per jest worker (index JEST_WORKER_ID - 1), each with its own etcd prefix,
   * for the handler tests on the real backend (test/handlers/real-kube.ts): they reset one to
   * its `baselineFile` when a test starts a cluster, which a shared server would not allow;
   * the second is for the tests that move a resource to another cluster.
   */
  readonly workerApiServers: ReadonlyArray<ReadonlyArray<RealApiServer & { readonly baselineFile: string }>>;
  readonly authenticatorUrl: string;
  readonly kubectl: string;
  readonly versions: { kubernetes: string; etcd: string; awsIamAuthenticator: string; go: string };
}

const running: Array<{ name: string; proc: ChildProcess }> = [];
let workDir: string | undefined;

class ComponentError extends Error {
  constructor(component: string, step: string, detail: string) {
    super(`real components: ${component}: ${step}: ${detail}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

function start(name: string, command: string, args: string[], dir: string): { proc: ChildProcess; log: string } {
  const log = path.join(dir, `${name}.log`);
  const out = fs.openSync(log, 'a');
  const proc = spawn(command, args, { stdio: ['ignore', out, out], detached: false });
  fs.closeSync(out);
  running.push({ name, proc });
  return { proc, log };
}

/** Polls `probe` until it resolves true, the process exits, or `timeoutMs` passes. */
async function waitFor(component: string, proc: ChildProcess, log: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new ComponentError(component, 'start', `exited (${proc.exitCode ?? proc.signalCode}) before it was ready; its log ends:\n${tail(log)}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise(r => setTimeout(r, 200));
  }
  throw new ComponentError(component, 'start', `not ready within ${timeoutMs / 1000} s; its log ends:\n${tail(log)}`);
}

async function httpGet(url: string, options: { ca?: string; token?: string } = {}): Promise<{ status: number; body: string }> {
  const mod = url.startsWith('https:') ? await import('https') : await import('http');
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { ca: options.ca, headers: options.token ? { Authorization: `Bearer ${options.token}` } : {} } as any, res => {
      let body = '';
      res.on('data', c => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(2_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function openssl(args: string[], dir: string): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new ComponentError('kube-apiserver', 'make its certificates with openssl', (e as any).stderr?.toString() ?? String(e));
  }
}

/** Builds (or finds in the cache) and starts every component; throws naming the component and step. */
export async function startComponents(workers = 1): Promise<RealComponents> {
  const root = path.resolve(__dirname, '..', '..');
  let built: any;
  try {
    const out = execFileSync('bash', [path.join(root, 'scripts', 'real-components.sh')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1_048_576 });
    built = JSON.parse(out.toString('utf8'));
  } catch (e) {
    throw new Error(`real components: build failed (scripts/real-components.sh said why above): ${(e as Error).message.split('\n')[0]}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-eks-access-real-'));
  workDir = dir;
  try {
    // A CA, the API server's certificate (127.0.0.1), the service-account key pair.
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=cdk-eks-access-test-ca'], dir);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'], dir);
    fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext'], dir);
    openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
    openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
    // The reconciler's identity: system:masters, as the cluster creator has on EKS.
    const token = `cdk-eks-access-${Date.now().toString(36)}`;
    fs.writeFileSync(path.join(dir, 'tokens.csv'), `${token},cdk-eks-access-reconciler,uid-reconciler,"system:masters"\n`);

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = start('etcd', built.etcd, [
      '--name', 'test', '--data-dir', path.join(dir, 'etcd-data'),
      '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `test=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls', '', '--log-level', 'warn',
      // a throwaway store: no fsync (the tests' data lives for one run)
      '--unsafe-no-fsync',
    ], dir);
    await waitFor('etcd', etcd.proc, etcd.log, async () => (await httpGet(`${etcdUrl}/health`)).status === 200, 60_000);

    const ca = fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const startApiServer = async (name: string, port: number, etcdPrefix: string): Promise<string> => {
      const url = `https://127.0.0.1:${port}`;
      const api = start(name, built['kube-apiserver'], [
        '--etcd-servers', etcdUrl, '--etcd-prefix', etcdPrefix,
        '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--secure-port', String(port),
        '--tls-cert-file', path.join(dir, 'server.crt'), '--tls-private-key-file', path.join(dir, 'server.key'),
        '--client-ca-file', path.join(dir, 'ca.crt'),
        '--token-auth-file', path.join(dir, 'tokens.csv'),
        '--authorization-mode', 'RBAC',
        '--service-account-issuer', 'https://kubernetes.default.svc', '--service-account-key-file', path.join(dir, 'sa.pub'),
        '--service-account-signing-key-file', path.join(dir, 'sa.key'),
        // an address range the API server allocates Service IPs from; no traffic goes there
        '--service-cluster-ip-range', '10.96.0.0/24',
        '--cert-dir', path.join(dir, `certs-${name}`),
      ], dir);
      await waitFor(name, api.proc, api.log, async () => (await httpGet(`${url}/readyz`, { ca, token })).status === 200, 120_000);
      return url;
    };
    const apiUrl = `https://127.0.0.1:${apiPort}`;
    const workerNames: string[] = [];
    for (let w = 1; w <= workers; w++) workerNames.push(`worker-${w}-a`, `worker-${w}-b`);
    const workerPorts: number[] = [];
    for (const _ of workerNames) workerPorts.push(await freePort());
    // the shared server and the workers' servers start together (one etcd, a prefix each)
    const [, ...workerUrls] = await Promise.all([
      startApiServer('kube-apiserver', apiPort, '/registry'),
      ...workerNames.map((name, i) => startApiServer(`kube-apiserver-${name}`, workerPorts[i], `/registry-${name}`)),
    ]);
    const servers = await Promise.all(workerUrls.map(async (url, i) => {
      const baselineFile = path.join(dir, `${workerNames[i]}-baseline.json`);
      const server = { url, token, ca, caFile: path.join(dir, 'ca.crt') };
      fs.writeFileSync(baselineFile, JSON.stringify(await recordBaseline(server)));
      return { ...server, baselineFile };
    }));
    const workerApiServers = Array.from({ length: workers }, (_, w) => servers.slice(2 * w, 2 * w + 2));

    // The clusterrole-aggregation controller alone (no namespace controller: a deleted namespace
    // stays Terminating): it fills admin, edit and view from the aggregate-to-* ClusterRoles.
    const kubeconfig = path.join(dir, 'controller-manager.kubeconfig');
    fs.writeFileSync(kubeconfig, JSON.stringify({
      'apiVersion': 'v1',
      'kind': 'Config',
      'current-context': 'test',
      'clusters': [{ name: 'test', cluster: { 'server': apiUrl, 'certificate-authority': path.join(dir, 'ca.crt') } }],
      'users': [{ name: 'test', user: { token } }],
      'contexts': [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
    }));
    const kcm = start('kube-controller-manager', built['kube-controller-manager'], [
      '--kubeconfig', kubeconfig, '--controllers', 'clusterrole-aggregation', '--leader-elect=false',
      '--bind-address', '127.0.0.1', '--secure-port', String(await freePort()), '--cert-dir', path.join(dir, 'kcm-certs'),
    ], dir);
    await waitFor('kube-controller-manager (clusterrole-aggregation)', kcm.proc, kcm.log, async () => {
      const admin = await httpGet(`${apiUrl}/apis/rbac.authorization.k8s.io/v1/clusterroles/admin`, { ca, token });
      return admin.status === 200 && (JSON.parse(admin.body).rules ?? []).length > 0;
    }, 60_000);

    const auth = start('authenticator', built.authenticator, ['-listen', '127.0.0.1:0'], dir);
    let authenticatorUrl = '';
    await waitFor('aws-iam-authenticator reader', auth.proc, auth.log, async () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(fs.readFileSync(auth.log, 'utf8'));
      if (m) authenticatorUrl = m[1];
      return m !== null;
    }, 30_000);

    return {
      dir,
      apiServer: { url: apiUrl, token, ca, caFile: path.join(dir, 'ca.crt') },
      workerApiServers,
      authenticatorUrl,
      kubectl: built.kubectl,
      versions: built.versions,
    };
  } catch (e) {
    await stopComponents();
    throw e;
  }
}

/** Stops what `startComponents` started (latest first) and removes its directory. */
export async function stopComponents(): Promise<void> {
  for (const { proc } of running.splice(0).reverse()) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    const exited = new Promise(resolve => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}

// A run that ends abruptly (an exit, Ctrl-C, a CI timeout's SIGTERM) still ends its
// components and removes their directory (the CA key and etcd's data are in it).
function killAll(): void {
  for (const { proc } of running) proc.kill('SIGKILL');
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}
