import { describeReal } from '../../real/components';
import { useRealApiServer } from '../backend';

/** test/handlers/aws-auth-real-world.test.ts, every test of it, on the real kube-apiserver (test/handlers/real-kube.ts). */
useRealApiServer();
describeReal('on the real kube-apiserver', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../aws-auth-real-world.test');
});
