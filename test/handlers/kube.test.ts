import { FakeKube, startFakeKube } from './fake-kube';
import { HttpKubeApi, KubeApi, KubeError, KubeResponse, RetryClock, TRANSIENT_RETRY_BUDGET_MS, withTransientRetries } from '../../src/handlers/access-reconciler/kube';
import { eksToken } from '../../src/handlers/access-reconciler/token';
import { RECONCILER_TIMEOUT } from '../../src/private/reconciler-provider';

const NS = '/api/v1/namespaces/default';

/** A clock that only moves when the code under test sleeps or a scripted request takes time. */
function fakeClock(random = 0.5): RetryClock & { waits: number[]; elapsed: () => number; advance: (ms: number) => void } {
  let t = 0;
  const waits: number[] = [];
  return {
    waits,
    elapsed: () => t,
    advance: ms => { t += ms; },
    now: () => t,
    random: () => random,
    sleep: async ms => { waits.push(ms); t += ms; },
  };
}

/** An in-memory KubeApi answering from a script (an Error is thrown), each request taking `durationMs` of the clock. */
class ScriptedApi implements KubeApi {
  public calls = 0;
  constructor(
    private readonly script: Array<KubeResponse | Error>,
    private readonly clock?: { advance: (ms: number) => void },
    private readonly durationMs = 0,
    private readonly rest?: KubeResponse | Error,
  ) {}
  public async request(): Promise<KubeResponse> {
    this.calls++;
    this.clock?.advance(this.durationMs);
    const step = this.script.shift() ?? this.rest ?? { status: 200, body: {} };
    if (step instanceof Error) throw step;
    return step;
  }
}

const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const unavailable: KubeResponse = { status: 503, body: { kind: 'Status', code: 503, message: 'the server is currently unable to handle the request' } };

describe('transient Kubernetes API errors (withTransientRetries)', () => {
  let kube: FakeKube;
  let http: KubeApi;
  beforeEach(async () => {
    kube = await startFakeKube();
    const token = await eksToken({ clusterName: 'c', region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    http = new HttpKubeApi({ endpoint: kube.endpoint, token });
  });
  afterEach(async () => {
    await kube.close();
  });

  test('a 429 is retried after the wait the server asks for (details.retryAfterSeconds)', async () => {
    // GIVEN: API priority and fairness rejects the first request
    kube.faults.push({ status: 429, retryAfterSeconds: 7 });
    const clock = fakeClock();

    // WHEN
    const res = await withTransientRetries(http, {}, clock).request('GET', NS);

    // THEN
    expect(res.status).toBe(200);
    expect(clock.waits).toEqual([7000]);
    expect(kube.log.map(l => l.status)).toEqual([429, 200]);
  });

  test('a server\'s retryAfterSeconds is capped (maxRetryAfterMs); a 429 without one backs off', async () => {
    kube.faults.push({ status: 429, retryAfterSeconds: 3600 }, { status: 429 });
    const clock = fakeClock(0.5);
    const res = await withTransientRetries(http, { baseDelayMs: 100, maxRetryAfterMs: 5000 }, clock).request('GET', NS);
    expect(res.status).toBe(200);
    // the second wait is the backoff of attempt 2: 200 ms, jittered to 150
    expect(clock.waits).toEqual([5000, 150]);
  });

  test.each([500, 502, 503, 504])('a %d is retried, and the request is sent again as it was', async (status) => {
    kube.faults.push({ status }, { status });
    const clock = fakeClock();
    const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } };
    const res = await withTransientRetries(http, {}, clock).request('POST', '/api/v1/namespaces', body);
    expect(res.status).toBe(201);
    expect(kube.log).toEqual([
      { method: 'POST', path: '/api/v1/namespaces', status },
      { method: 'POST', path: '/api/v1/namespaces', status },
      { method: 'POST', path: '/api/v1/namespaces', status: 201 },
    ]);
    expect(kube.get('/api/v1/namespaces/team-a').metadata.name).toBe('team-a');
    expect(clock.waits).toHaveLength(2);
  });

  test('a connection the server drops (api.request throws) is retried', async () => {
    kube.faults.push({ destroy: true }, { destroy: true });
    const clock = fakeClock();
    // the unwrapped API throws: that is what the wrapper retries
    kube.faults.unshift({ destroy: true });
    await expect(http.request('GET', NS)).rejects.toThrow();
    const res = await withTransientRetries(http, {}, clock).request('GET', NS);
    expect(res.status).toBe(200);
    expect(kube.log.map(l => l.status)).toEqual([0, 0, 0, 200]);
    expect(clock.waits).toHaveLength(2);
  });

  test.each([
    [400, 'BadRequest'],
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
    [422, 'Invalid'],
  ])('a %d (%s) is not retried: it is passed through to the caller', async (status) => {
    kube.faults.push({ status });
    const clock = fakeClock();
    const res = await withTransientRetries(http, {}, clock).request('GET', NS);
    expect(res.status).toBe(status);
    expect(kube.log).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });

  test('404 and 409 are passed through (the callers re-read on them)', async () => {
    const clock = fakeClock();
    const api = withTransientRetries(http, {}, clock);
    expect((await api.request('GET', '/api/v1/namespaces/absent')).status).toBe(404);
    expect((await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } })).status).toBe(409);
    const current = kube.get(NS);
    expect((await api.request('PUT', NS, { ...current, metadata: { ...current.metadata, resourceVersion: '1' } })).status).toBe(409);
    expect(kube.log.map(l => l.status)).toEqual([404, 409, 409]);
    expect(clock.waits).toEqual([]);
  });

  test('a PUT whose answer was lost is not applied twice: the re-sent PUT answers 409', async () => {
    // GIVEN: the first PUT lands, but the client sees a 500
    const current = kube.get(NS);
    let lost = 1;
    kube.hooks.failAfterWrite = () => lost-- > 0;
    const clock = fakeClock();

    // WHEN
    const res = await withTransientRetries(http, {}, clock).request('PUT', NS, { ...current, metadata: { ...current.metadata, labels: { a: 'b' } } });

    // THEN: the re-sent PUT carries the version the first one replaced
    expect(res.status).toBe(409);
    expect(kube.log.map(l => l.status)).toEqual([500, 409]);
    // (the API server adds the namespace's name label to every namespace it stores)
    expect(kube.get(NS).metadata.labels).toEqual({ 'a': 'b', 'kubernetes.io/metadata.name': 'default' });
  });

  test('when the attempts run out, the last error surfaces and says so', async () => {
    kube.faults.push({ status: 503 }, { status: 503 }, { status: 503 });
    const clock = fakeClock();
    const error = await withTransientRetries(http, { attempts: 3 }, clock).request('GET', NS).catch(e => e);
    expect(error).toBeInstanceOf(KubeError);
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/^Kubernetes API GET \/api\/v1\/namespaces\/default answered 503: injected 503 \(still failing after 3 attempts; .*retry the deploy later\)$/);
    expect(kube.log).toHaveLength(3);
    expect(clock.waits).toHaveLength(2);

    const thrown = new ScriptedApi([], undefined, 0, reset());
    await expect(withTransientRetries(thrown, { attempts: 4 }, fakeClock()).request('DELETE', '/x')).rejects.toThrow('Kubernetes API DELETE /x failed after 4 attempts: socket hang up');
    expect(thrown.calls).toBe(4);
  });

  test('waits grow exponentially with jitter, between half and all of the backoff, up to maxDelayMs', async () => {
    const low = fakeClock(0);
    await withTransientRetries(new ScriptedApi([unavailable, unavailable, unavailable, unavailable, unavailable, reset()]), { baseDelayMs: 100, maxDelayMs: 1000 }, low).request('GET', NS);
    expect(low.waits).toEqual([50, 100, 200, 400, 500, 500]);
    const high = fakeClock(0.999);
    await withTransientRetries(new ScriptedApi([unavailable, unavailable, unavailable, unavailable, unavailable]), { baseDelayMs: 100, maxDelayMs: 1000 }, high).request('GET', NS);
    expect(high.waits.map(Math.round)).toEqual([100, 200, 400, 800, 1000]);
  });

  test('the time spent on transient failures stays within the budget, across all requests of one invocation', async () => {
    // GIVEN: an API server that never answers (each attempt runs into the 30 s request timeout)
    const clock = fakeClock(0.999);
    const api = new ScriptedApi([], clock, 30_000, new Error('no answer within 30000 ms'));
    const wrapped = withTransientRetries(api, {}, clock);

    // WHEN
    await expect(wrapped.request('GET', NS)).rejects.toThrow(/failed after \d+ attempts \(the 240000 ms retry budget of this invocation is spent\): no answer/);
    const first = clock.elapsed();
    const callsBefore = api.calls;
    await expect(wrapped.request('PUT', NS)).rejects.toThrow(/failed after 1 attempts/);

    // THEN: at most the budget, plus the attempt under way when it ran out
    expect(first).toBeLessThanOrEqual(TRANSIENT_RETRY_BUDGET_MS + 30_000);
    expect(first).toBeGreaterThan(TRANSIENT_RETRY_BUDGET_MS - 30_000 - 3000); // it did use the budget
    expect(api.calls - callsBefore).toBe(1); // the budget is spent: no more retries
    // and the worst case of an invocation stays well inside the reconciler's 10-minute timeout
    // (budget + one attempt + conflict waits 39 x 3 s + AssumeRole waits 11 x 5 s)
    expect(TRANSIENT_RETRY_BUDGET_MS + 30_000 + 39 * 3000 + 11 * 5000).toBeLessThan(RECONCILER_TIMEOUT.toMilliseconds() - 120_000);
  });
});
