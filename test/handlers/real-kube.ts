import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import { MessageChannel, MessagePort, Worker, receiveMessageOnPort } from 'worker_threads';
import { noteRealClusterStarted } from './backend';
import { FakeKube, KubeStore, answerFault, beforeWrite, checkEksToken, kubeStatus, testControls, throwHookErrors } from './fake-kube';
import { isReset, resetToBaseline, writable } from '../real/baseline';
import { realComponents } from '../real/components';
import { RealApiServer } from '../real/start';

/**
 * The handler tests' cluster on the real backend: one of this jest worker's own kube-apiservers
 * (test/real/start.ts starts two per worker), reset to how it started, behind a loopback proxy
 * that gives it the fake's interface (`FakeKube`):
 *
 * - the proxy checks the EKS token as the fake does, then forwards with the reconciler's
 *   `system:masters` token; the answers are the real server's, byte for byte;
 * - `faults`, `hooks.beforeWrite`, `hooks.failAfterWrite`, `latencyMs` and `log` act in the
 *   proxy, as in the fake (a fault answers before the request reaches the server);
 * - `get`, `put` and `store` are synchronous, as the tests use them: each is a request to the
 *   real server (a write by "another client"), made by a worker thread; `put` creates or replaces
 *   without a precondition, as the fake's does; reads leave out `managedFields`.
 *
 * Two clusters at once at most (a test that moves a resource to another cluster); `close`
 * hands the server back, and fails the test when a hook threw or the test wrote a kind the
 * reset does not cover. No controller runs against these servers (not even the
 * clusterrole-aggregation one the shared server has): `admin`, `edit` and `view` hold no
 * rules here, which no handler test relies on (RBAC's answers are judged in
 * test/real/can-i.test.ts).
 */

const inUse = new Set<string>();

interface SyncAnswer { status: number; body: any }

/**
 * Synchronous requests, as the tests' `get`/`put` are: a worker thread makes them (keep-alive
 * HTTPS, TLS verified against the test CA) while this thread waits on a shared flag.
 */
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const https = require('https');
const { port, url, token, ca } = workerData;
const agent = new https.Agent({ ca, keepAlive: true });
port.on('message', ({ signal, method, path, body }) => {
  const done = answer => { port.postMessage(answer); Atomics.store(signal, 0, 1); Atomics.notify(signal, 0); };
  const req = https.request(url + path, { method, agent, headers: { Authorization: 'Bearer ' + token, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) } }, res => {
    const chunks = [];
    res.on('data', c => chunks.push(c));
    res.on('end', () => { const text = Buffer.concat(chunks).toString('utf8'); done({ status: res.statusCode, text }); });
  });
  req.on('error', e => done({ error: String(e) }));
  req.end(body === undefined ? undefined : JSON.stringify(body));
});
`;
const syncClients = new Map<string, { port: MessagePort; worker: Worker }>();

function stopSyncClients(): void {
  for (const { port, worker } of syncClients.values()) {
    port.close();
    void worker.terminate();
  }
  syncClients.clear();
}

function syncRequest(server: RealApiServer, method: string, path: string, body?: unknown): SyncAnswer {
  let port = syncClients.get(server.url)?.port;
  if (!port) {
    const channel = new MessageChannel();
    const workerData = { port: channel.port2, url: server.url, token: server.token, ca: server.ca };
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, transferList: [channel.port2] });
    worker.unref();
    channel.port1.unref();
    port = channel.port1;
    syncClients.set(server.url, { port, worker });
  }
  const signal = new Int32Array(new SharedArrayBuffer(4));
  port.postMessage({ signal, method, path, body });
  if (Atomics.wait(signal, 0, 0, 60_000) === 'timed-out') throw new Error(`${method} ${path} on the real API server: no answer within 60 s`);
  const answer = receiveMessageOnPort(port)!.message;
  if (answer.error) throw new Error(`${method} ${path} on the real API server: ${answer.error}`);
  return { status: answer.status, body: answer.text ? JSON.parse(answer.text) : undefined };
}

function withoutManagedFields(obj: any): any {
  if (!obj?.metadata?.managedFields) return obj;
  const { managedFields: _m, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** The collection a path's object is created in, and its name and namespace as the path says. */
function parsePath(path: string): { collection: string; name: string; namespace?: string } {
  const cut = path.lastIndexOf('/');
  const ns = /\/namespaces\/([^/]+)\/[^/]+\/[^/]+$/.exec(path);
  return { collection: path.slice(0, cut), name: decodeURIComponent(path.slice(cut + 1)), namespace: ns ? decodeURIComponent(ns[1]) : undefined };
}

/**
 * The objects on the server, by the fake's paths, as the tests read them. Every write to this
 * server goes through this store or the proxy, and each empties the cache of reads (the
 * server itself runs no controller that would write them), so a read served from the cache
 * is what the server would answer.
 */
class RealStore implements KubeStore {
  private readonly cache = new Map<string, any>();
  /** The highest resourceVersion of a namespace write seen (by the proxy or this store). */
  private namespaceVersion = 0n;

  constructor(private readonly server: RealApiServer) {}

  /** Forgets every read (a write happened or may be happening). */
  public invalidate(): void {
    this.cache.clear();
  }

  private read(path: string, load: () => any): any {
    if (!this.cache.has(path)) this.cache.set(path, load());
    return structuredClone(this.cache.get(path));
  }

  public get(path: string): any {
    return this.read(path, () => {
      const r = syncRequest(this.server, 'GET', path);
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new Error(`GET ${path} on the real API server: ${r.status} ${JSON.stringify(r.body)}`);
      return withoutManagedFields(r.body);
    });
  }

  /** Creates or replaces, without a precondition (as the fake's `put`); throws when the server refuses. */
  public set(path: string, obj: any): this {
    const { collection, name, namespace } = parsePath(path);
    const body = writable({ ...obj, metadata: { ...obj.metadata, name, ...(namespace ? { namespace } : {}) } });
    this.invalidate();
    const exists = syncRequest(this.server, 'GET', path).status === 200;
    const r = exists ? syncRequest(this.server, 'PUT', path, body) : syncRequest(this.server, 'POST', collection, body);
    this.noteWrite(exists ? path : collection, r.body);
    if (r.status >= 300) throw new Error(`the real API server refused the test's own write of ${path}: ${r.status} ${r.body?.message ?? JSON.stringify(r.body)}`);
    return this;
  }

  public delete(path: string): boolean {
    this.invalidate();
    const r = syncRequest(this.server, 'DELETE', path);
    this.noteWrite(path, r.body);
    if (r.status >= 300 && r.status !== 404) throw new Error(`DELETE ${path} on the real API server: ${r.status} ${JSON.stringify(r.body)}`);
    return r.status < 300;
  }

  /** Notes a write's answer: a namespace's resourceVersion moves the version `namespaces()` must see. */
  public noteWrite(path: string, answer: any): void {
    const rv = answer?.metadata?.resourceVersion;
    if (!/^\/api\/v1\/namespaces(\/[^/]+)?$/.test(path) || typeof rv !== 'string' || !/^\d+$/.test(rv)) return;
    if (BigInt(rv) > this.namespaceVersion) this.namespaceVersion = BigInt(rv);
  }

  /**
   * The namespaces not being deleted, read from the API server's watch cache no older than the
   * last namespace write seen (`resourceVersionMatch=NotOlderThan`): as fresh as a consistent
   * list for every write made here, without its wait for the cache to catch up with etcd
   * (about 65 ms a list here).
   */
  public namespaces(): string[] {
    return this.read(' namespaces', () => {
      const r = syncRequest(this.server, 'GET', `/api/v1/namespaces?resourceVersion=${this.namespaceVersion}&resourceVersionMatch=NotOlderThan`);
      if (r.status !== 200) throw new Error(`GET /api/v1/namespaces on the real API server: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.items.filter((n: any) => !n.metadata.deletionTimestamp).map((n: any) => n.metadata.name);
    });
  }
}

export async function startRealKube(tls?: { key: string; cert: string }): Promise<FakeKube> {
  const worker = Number(process.env.JEST_WORKER_ID ?? '1') - 1;
  const slots = realComponents().workerApiServers[worker];
  if (!slots) throw new Error(`no real API server for jest worker ${worker + 1} (test/real/start.ts starts two per worker)`);
  const slot = slots.find(s => !inUse.has(s.url));
  if (!slot) throw new Error('a test on the real backend may have two clusters open at once, not more: close one first');
  inUse.add(slot.url);
  noteRealClusterStarted();
  const server: RealApiServer = slot;
  try {
    await resetToBaseline(server, JSON.parse(fs.readFileSync(slot.baselineFile, 'utf8')));
  } catch (e) {
    inUse.delete(slot.url);
    throw e;
  }

  const store = new RealStore(server);
  /** Writes to kinds the reset does not cover: they would outlive the test (close() fails it). */
  const outside: string[] = [];
  const log: FakeKube['log'] = [];
  const upstream = new URL(server.url);
  const agent = new https.Agent({ ca: server.ca, keepAlive: true });

  const kube: FakeKube = {
    endpoint: '',
    store,
    ...testControls(log),
    put: (path, obj) => { store.set(path, obj); },
    get: path => store.get(path),
    namespaces: () => store.namespaces(),
    close: async () => {
      await new Promise<void>(resolve => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      agent.destroy();
      inUse.delete(slot.url);
      if (inUse.size === 0) stopSyncClients();
      throwHookErrors(kube);
      if (outside.length > 0) throw new Error(`the test wrote kinds the reset between tests does not cover (test/real/baseline.ts): ${outside.join(', ')}`);
    },
  };

  function forward(method: string, url: string, body: Buffer): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request({
        hostname: upstream.hostname,
        port: upstream.port,
        path: url,
        method,
        agent,
        headers: {
          Authorization: `Bearer ${server.token}`,
          Accept: 'application/json',
          ...(body.length ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {}),
        },
      }, res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const path = url.split('?')[0];
      if (answerFault(kube, method, path, req, res)) return;
      if (method !== 'GET' && !isReset(path)) outside.push(`${method} ${path}`);
      let status: number;
      let text: string;
      const authError = checkEksToken(req.headers.authorization);
      if (authError) {
        [status, text] = [401, JSON.stringify(kubeStatus(401, 'Unauthorized', authError))];
      } else {
        try {
          if (method !== 'GET') store.invalidate();
          if (method !== 'GET' && !await beforeWrite(kube, method, path, JSON.parse(body.toString('utf8') || '{}'))) {
            [status, text] = [500, JSON.stringify(kubeStatus(500, 'InternalError', 'the test\'s beforeWrite hook threw'))];
          } else {
            ({ status, text } = await forward(method, url, body));
          }
          if (method !== 'GET') {
            store.invalidate();
            if (status < 300) store.noteWrite(path, JSON.parse(text || '{}'));
          }
        } catch (e) {
          [status, text] = [500, JSON.stringify(kubeStatus(500, 'InternalError', `the proxy in front of the real API server: ${String(e)}`))];
        }
      }
      if (method !== 'GET' && status < 300 && kube.hooks.failAfterWrite?.(method, path)) {
        [status, text] = [500, JSON.stringify(kubeStatus(500, 'InternalError', 'injected after the write'))];
      }
      if (kube.latencyMs) await new Promise(r => setTimeout(r, Math.random() * kube.latencyMs));
      log.push({ method, path, status });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(text);
    });
  };
  const proxy = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', () => resolve()));
  (kube as any).endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return kube;
}
