import { REAL_ENV, REAL_OFF, startComponents } from './start';
import { useRunTmpDir } from '../run-tmp';

/** jest globalSetup: the real components, once per run (test/real/README.md). */
export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  useRunTmpDir();
  if (process.env[REAL_ENV] === REAL_OFF) {
    process.stderr.write(`\n${REAL_ENV}=off: the tests judged by the real components are skipped (a developer's quick run; .ci/run refuses this)\n`);
    return;
  }
  const started = Date.now();
  const real = await startComponents(Math.max(1, globalConfig.maxWorkers));
  process.env[REAL_ENV] = JSON.stringify(real);
  process.stderr.write(`\nreal components: kube-apiserver ${real.versions.kubernetes} (etcd ${real.versions.etcd}) at ${real.apiServer.url} (and one per worker: ${real.workerApiServers.length}), `
    + `aws-iam-authenticator ${real.versions.awsIamAuthenticator} reader at ${real.authenticatorUrl}; ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
