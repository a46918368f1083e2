import { execFileSync, spawnSync } from 'child_process';
import { askAuthenticator, describeReal, realComponents, realKubeApi } from './components';

describeReal('the real components (kube-apiserver, kubectl and aws-iam-authenticator of the pinned releases)', () => {
  test('the API server is the pinned Kubernetes release, authorizes with RBAC and knows the reconciler as system:masters', async () => {
    const real = realComponents();
    const api = realKubeApi();
    const version = await api.request('GET', '/version');
    expect(version.body.gitVersion).toBe(real.versions.kubernetes);
    const review = await api.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(review.status).toBe(201);
    expect(review.body.status.userInfo.groups).toContain('system:masters');
    // RBAC's bootstrap roles exist (the API server's post-start hook writes them), and the
    // aggregated ones are filled (kube-controller-manager's clusterrole-aggregation controller)
    const view = await api.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/view');
    expect(view.body.rules.length).toBeGreaterThan(10);
  });

  test('kubectl of the same release talks to it', () => {
    const real = realComponents();
    const out = execFileSync(real.kubectl, ['version', '-o', 'json', '--server', real.apiServer.url, '--token', real.apiServer.token, '--certificate-authority', real.apiServer.caFile]).toString();
    const v = JSON.parse(out);
    expect(v.clientVersion.gitVersion).toBe(real.versions.kubernetes);
    expect(v.serverVersion.gitVersion).toBe(real.versions.kubernetes);
  });

  test('the authenticator reader is the pinned release and answers with its own parse errors', async () => {
    const answer = await askAuthenticator({ mapUsers: '- userarn: arn:aws:iam::111122223333:user/a\n  username: "a\x7f"\n' }, ['arn:aws:iam::111122223333:user/a']);
    expect(answer.version).toBe(realComponents().versions.awsIamAuthenticator);
    expect(answer.sectionErrors.mapUsers).toMatch(/control characters are not allowed/);
    expect(answer.callers[0].mappings).toEqual([]);
  });
});

test('the build script fails naming the component and the step when Go is missing', () => {
  const result = spawnSync('bash', ['scripts/real-components.sh'], { env: { ...process.env, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('real components: all: go not found on PATH');
});
