import * as http from 'http';
import * as https from 'https';

/** A Kubernetes API response: status code and parsed JSON body (undefined when empty). */
export interface KubeResponse {
  readonly status: number;
  readonly body: any;
}

/** The little of the Kubernetes API the reconciler needs: JSON requests by path. */
export interface KubeApi {
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<KubeResponse>;
}

/** A Kubernetes API error with its status code and the server's message. */
export class KubeError extends Error {
  constructor(public readonly status: number, method: string, path: string, body: any) {
    super(`Kubernetes API ${method} ${path} answered ${status}: ${body?.message ?? JSON.stringify(body)}`);
  }
}

export interface HttpKubeApiProps {
  /** `https://…` (EKS) or `http://…` (the tests' loopback server). */
  readonly endpoint: string;
  /** The bearer token (an EKS token). */
  readonly token: string;
  /** PEM of the cluster's certificate authority; TLS is always verified against it. */
  readonly certificateAuthority?: string;
  /** @default 30000 */
  readonly timeoutMs?: number;
}

/** A KubeApi over HTTP(S) with a bearer token, TLS verified against the cluster's CA. */
export class HttpKubeApi implements KubeApi {
  private readonly url: URL;

  constructor(private readonly props: HttpKubeApiProps) {
    this.url = new URL(props.endpoint);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') {
      throw new Error(`cluster endpoint ${props.endpoint} is not an http(s) URL`);
    }
  }

  public request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<KubeResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const transport = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request({
        protocol: this.url.protocol,
        hostname: this.url.hostname,
        port: this.url.port || undefined,
        path: `${this.url.pathname.replace(/\/$/, '')}${path}`,
        method,
        ca: this.props.certificateAuthority,
        headers: {
          Authorization: `Bearer ${this.props.token}`,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        },
      }, res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = { message: text.slice(0, 500) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.setTimeout(this.props.timeoutMs ?? 30_000, () => req.destroy(new Error(`Kubernetes API ${method} ${path}: no answer within ${this.props.timeoutMs ?? 30_000} ms`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }
}

/** Retries with jittered exponential backoff (conflicts, racing creations). */
export interface RetryOptions {
  /** @default 40 */
  readonly attempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** @default 3000 */
  readonly maxDelayMs?: number;
}

/** Thrown by an attempt that lost a race and should be retried with fresh state. */
export class Retry extends Error {}

/** Runs `attempt` until it does not throw `Retry`, waiting longer each time. */
export async function withRetries<T>(what: string, options: RetryOptions, attempt: () => Promise<T>): Promise<T> {
  const attempts = options.attempts ?? 40;
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 3000;
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof Retry)) throw e;
      if (i >= attempts) throw new Error(`${what}: still conflicting after ${attempts} attempts (${e.message}); another writer keeps changing it. Retry the deploy.`);
      const delay = Math.min(max, base * 2 ** Math.min(i - 1, 10));
      await new Promise(r => setTimeout(r, delay / 2 + Math.random() * delay / 2));
    }
  }
}

/** API path of an object of a kind the reconciler writes. */
export function objectPath(obj: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') throw new Error(`object without a name: ${JSON.stringify(obj).slice(0, 200)}`);
  const ns = obj.metadata?.namespace;
  const enc = encodeURIComponent;
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  switch (`${obj.apiVersion}/${obj.kind}`) {
    case 'v1/Namespace': return `/api/v1/namespaces/${enc(name)}`;
    case 'v1/ConfigMap': return `/api/v1/namespaces/${enc(ns!)}/configmaps/${enc(name)}`;
    case 'rbac.authorization.k8s.io/v1/Role': return `${rbac}/namespaces/${enc(requireNs(ns, name))}/roles/${enc(name)}`;
    case 'rbac.authorization.k8s.io/v1/RoleBinding': return `${rbac}/namespaces/${enc(requireNs(ns, name))}/rolebindings/${enc(name)}`;
    case 'rbac.authorization.k8s.io/v1/ClusterRole': return `${rbac}/clusterroles/${enc(name)}`;
    case 'rbac.authorization.k8s.io/v1/ClusterRoleBinding': return `${rbac}/clusterrolebindings/${enc(name)}`;
    default: throw new Error(`the reconciler does not write ${obj.apiVersion} ${obj.kind} (${name})`);
  }
}

function requireNs(ns: string | undefined, name: string): string {
  if (!ns) throw new Error(`namespaced object ${name} has no namespace`);
  return ns;
}

/** The collection path of an object (where it is POSTed). */
export function collectionPath(obj: Parameters<typeof objectPath>[0]): string {
  return objectPath(obj).replace(/\/[^/]+$/, '');
}
