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

/**
 * Retries with jittered exponential backoff: conflicts and racing creations (`withRetries`),
 * and transient API errors (`withTransientRetries`).
 */
export interface RetryOptions {
  /** @default 40 */
  readonly attempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** @default 3000 */
  readonly maxDelayMs?: number;
  /**
   * Longest wait honoured from a 429's `details.retryAfterSeconds` (API priority and
   * fairness); a longer value waits this long.
   * @default 10000
   */
  readonly maxRetryAfterMs?: number;
  /**
   * Time one `withTransientRetries` wrapper (one invocation of the handler) may spend on
   * transient failures in all: failed attempts and the waits after them. When the next
   * wait would go past it, the last error surfaces. See `TRANSIENT_RETRY_BUDGET_MS`.
   * @default TRANSIENT_RETRY_BUDGET_MS
   */
  readonly transientBudgetMs?: number;
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

/**
 * Worst-case time of one handler invocation, against the reconciler function's timeout
 * (10 minutes, `Duration.minutes(10)` in src/private/reconciler-provider.ts):
 *
 * - transient failures (this budget): at most 240 s of failed attempts and waits, plus
 *   the one attempt that is under way when the budget runs out (at most the request
 *   timeout, 30 s): 270 s;
 * - conflicts (`withRetries`, 40 attempts): at most 39 waits of at most 3 s: 117 s;
 * - `assumeRole` while IAM applies a trust policy: at most 11 waits of 5 s: 55 s; or,
 *   without a role to assume (aws-eks-v2), `waitUntilAuthorized` while the handler's own
 *   access entry propagates: at most 29 waits of 5 s plus 30 probes: about 150 s;
 * - the sweep of stale RBAC claims (objects.ts): it starts no new object after 30 s, and
 *   tries one object at most 3 times (2 waits of at most 3 s): about 40 s, plus the
 *   requests of the object under way (its writes, re-reads, and a ListStackResources
 *   per re-read that shows a claim not judged yet).
 *
 * 270 + 117 + 150 + 40 = 577 s of retrying and sweeping in the worst case (each bound at
 * once, which needs a failing API server, constant conflicts and a slow access entry in
 * one invocation), which leaves about 20 s of the 600 s for the requests that succeed
 * (each well under a second on a healthy API server). The transient budget is shared by
 * every request through one wrapper, so it holds however many objects one invocation writes.
 */
export const TRANSIENT_RETRY_BUDGET_MS = 240_000;

/** HTTP statuses that say "try again later": overload (429, API priority and fairness) and server or gateway failures. */
const TRANSIENT_STATUSES = [429, 500, 502, 503, 504];

/** What `withTransientRetries` waits and reads time with (tests inject their own). */
export interface RetryClock {
  /** @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since some fixed point. @default Date.now */
  readonly now?: () => number;
  /** A number in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/**
 * A KubeApi that re-sends a request after a transient failure: a 429 (waiting what the
 * Status body's `details.retryAfterSeconds` asks, capped at `maxRetryAfterMs`), a 500,
 * 502, 503 or 504, and any error `api.request` throws (a reset or refused connection, a
 * timeout), with jittered exponential backoff between `baseDelayMs` and `maxDelayMs`, at
 * most `attempts` times per request and within `transientBudgetMs` for all requests.
 * Other answers (2xx, 404, 409, and other 4xx) are returned as they are.
 *
 * Re-sending is safe because every write the reconciler makes is conditional, so a write
 * whose answer was lost cannot land twice or overwrite anything:
 * - a PUT carries the `resourceVersion` it read: if an earlier attempt landed, the version
 *   has moved on and the re-sent PUT answers 409, on which the caller re-reads (and finds
 *   its own change in place);
 * - a POST of an object that an earlier attempt created answers 409 AlreadyExists, on
 *   which the caller re-reads;
 * - a DELETE carries a `resourceVersion` precondition: if an earlier attempt deleted the
 *   object, the re-sent one answers 404 (or 409 when the object was re-created), on
 *   which the caller re-reads or treats the object as gone;
 * - a GET changes nothing.
 * A 409 or 404 therefore means "re-read", never "retry the same request", and is passed
 * through to the caller.
 *
 * When the attempts or the budget run out, the last error surfaces: a `KubeError` (with
 * the last status) for an answer, an `Error` for a thrown failure; both say how many
 * attempts were made.
 */
export function withTransientRetries(api: KubeApi, retry: RetryOptions = {}, clock: RetryClock = {}): KubeApi {
  const attempts = Math.max(1, retry.attempts ?? 40);
  const base = retry.baseDelayMs ?? 100;
  const max = retry.maxDelayMs ?? 3000;
  const maxRetryAfter = retry.maxRetryAfterMs ?? 10_000;
  const budget = retry.transientBudgetMs ?? TRANSIENT_RETRY_BUDGET_MS;
  const sleep = clock.sleep ?? ((ms: number) => new Promise<void>(r => setTimeout(r, ms)));
  const now = clock.now ?? Date.now;
  const random = clock.random ?? Math.random;
  let spent = 0; // time lost to transient failures, over every request of this wrapper

  return {
    async request(method, path, body) {
      for (let i = 1; ; i++) {
        const started = now();
        let failure: { response: KubeResponse } | { error: Error };
        try {
          const response = await api.request(method, path, body);
          if (!TRANSIENT_STATUSES.includes(response.status)) return response;
          failure = { response };
        } catch (e) {
          failure = { error: e instanceof Error ? e : new Error(String(e)) };
        }
        spent += now() - started;
        const backoff = Math.min(max, base * 2 ** Math.min(i - 1, 20));
        const retryAfter = 'response' in failure ? retryAfterMs(failure.response) : undefined;
        const delay = retryAfter !== undefined ? Math.min(retryAfter, maxRetryAfter) : backoff / 2 + random() * backoff / 2;
        if (i >= attempts || spent + delay > budget) {
          const why = i >= attempts ? `${i} attempts` : `${i} attempts (the ${budget} ms retry budget of this invocation is spent)`;
          if ('response' in failure) {
            const { status, body: answer } = failure.response;
            throw new KubeError(status, method, path, { ...(answer ?? {}), message: `${answer?.message ?? JSON.stringify(answer)} (still failing after ${why}; the API server is overloaded or failing: retry the deploy later)` });
          }
          throw new Error(`Kubernetes API ${method} ${path} failed after ${why}: ${failure.error.message}`, { cause: failure.error });
        }
        spent += delay;
        await sleep(delay);
      }
    },
  };
}

/** The wait a 429's Status body asks for (`details.retryAfterSeconds`), in milliseconds. */
function retryAfterMs(response: KubeResponse): number | undefined {
  const seconds = response.body?.details?.retryAfterSeconds;
  return response.status === 429 && typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
