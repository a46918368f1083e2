/**
 * Which cluster `startFakeKube()` gives the handler tests of this test file: the fake
 * (test/handlers/fake-kube.ts), or a real kube-apiserver (test/handlers/real-kube.ts). The
 * files in test/handlers/on-real-api-server/ run the handler test files on the real one.
 */
let backend: 'fake' | 'real' = 'fake';
/** How many clusters `startFakeKube()` started on the real backend in this test file. */
let realStarted = 0;

export function useRealApiServer(): void {
  backend = 'real';
}

export function kubeBackend(): 'fake' | 'real' {
  return backend;
}

export function noteRealClusterStarted(): void {
  realStarted++;
}

export function realClustersStarted(): number {
  return realStarted;
}
