import { describeReal } from '../../real/components';
import { realClustersStarted, useRealApiServer } from '../backend';

/** test/handlers/failure-cases.test.ts, every test of it, on the real kube-apiserver (test/handlers/real-kube.ts). */
useRealApiServer();
describeReal('on the real kube-apiserver', () => {
  // the file's tests started their clusters on the real server
  afterAll(() => expect(realClustersStarted()).toBeGreaterThan(0));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../failure-cases.test');
});
