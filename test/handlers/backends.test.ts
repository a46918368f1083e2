import { kubeBackend } from './backend';
import { api } from './events';
import { startFakeKube } from './fake-kube';

/**
 * What the handler tests rely on from either backend (the fake, or the real kube-apiserver
 * through test/handlers/on-real-api-server/backends.test.ts): a failed hook fails its test,
 * and nothing a test wrote is there for the next one.
 */
describe('the handler tests\' clusters', () => {
  test('a beforeWrite hook that throws answers its request 500, and closing the cluster fails the test', async () => {
    const kube = await startFakeKube();
    kube.hooks.beforeWrite = () => { throw new Error('the staged race could not be written'); };
    const res = await api(kube).request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'hooked' } });
    expect(res.status).toBe(500);
    await expect(kube.close()).rejects.toThrow(/beforeWrite hook of the test threw.*the staged race could not be written/);
  });

  test('a namespace, an object in it with a finalizer, and a changed system object are gone or back at the next cluster', async () => {
    const first = await startFakeKube();
    first.put('/api/v1/namespaces/leftover', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'leftover' } });
    first.put('/api/v1/namespaces/leftover/configmaps/held', {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: 'leftover', finalizers: ['example.com/hold'] }, data: { a: '1' },
    });
    first.put('/api/v1/namespaces/default', { ...first.get('/api/v1/namespaces/default'), metadata: { ...first.get('/api/v1/namespaces/default').metadata, labels: { changed: 'yes' } } });
    expect((await api(first).request('DELETE', '/api/v1/namespaces/leftover')).status).toBe(200);
    await first.close();

    const next = await startFakeKube();
    try {
      expect(next.get('/api/v1/namespaces/leftover')).toBeUndefined();
      expect(next.get('/api/v1/namespaces/leftover/configmaps/held')).toBeUndefined();
      expect(next.get('/api/v1/namespaces/default').metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'default' });
      expect(next.namespaces()).not.toContain('leftover');
    } finally {
      await next.close();
    }
  });

  test('on the real server, a write to a kind the reset between tests does not cover fails the test', async () => {
    const kube = await startFakeKube();
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside' }, spec: { ports: [{ port: 80 }] } };
    await api(kube).request('POST', '/api/v1/namespaces/default/services', service);
    await api(kube).request('DELETE', '/api/v1/namespaces/default/services/outside'); // (so that it does not stay)
    if (kubeBackend() === 'real') {
      await expect(kube.close()).rejects.toThrow(/kinds the reset between tests does not cover \(test\/real\/baseline.ts\): POST \/api\/v1\/namespaces\/default\/services/);
    } else {
      await kube.close(); // the fake has no Services: it answered 404
    }
  });
});
