import { KubectlV28Layer } from '@aws-cdk/lambda-layer-kubectl-v28';
import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { constructError, show } from './errors';

/** A kubectl layer package this library ships, and the cluster minors it serves (kubectl's one-minor skew). */
interface BundledLayer {
  readonly kubectlMinor: number;
  readonly create: (scope: Construct, id: string) => lambda.ILayerVersion;
}

const BUNDLED: readonly BundledLayer[] = [
  { kubectlMinor: 28, create: (scope, id) => new KubectlV28Layer(scope, id) },
  { kubectlMinor: 36, create: (scope, id) => new KubectlV36Layer(scope, id) },
];

/** The minor version of a `1.x` Kubernetes version, or undefined when it is not literal. */
export function kubernetesMinor(version: eks.KubernetesVersion): number | undefined {
  const match = Token.isUnresolved(version.version) ? null : /^1\.(\d+)$/.exec(version.version);
  return match ? Number(match[1]) : undefined;
}

/**
 * The kubectl layer for `version`: a bundled layer when one is within one minor
 * version of the cluster, otherwise an error that names the package to install.
 */
export function defaultKubectlLayer(scope: Construct, id: string, version: eks.KubernetesVersion): lambda.ILayerVersion {
  const minor = kubernetesMinor(version);
  const layer = minor === undefined ? undefined : BUNDLED.find(l => Math.abs(l.kubectlMinor - minor) <= 1);
  if (!layer) {
    const pkg = minor === undefined ? '@aws-cdk/lambda-layer-kubectl-v<minor>' : `@aws-cdk/lambda-layer-kubectl-v${minor}`;
    const cls = minor === undefined ? 'KubectlV<minor>Layer' : `KubectlV${minor}Layer`;
    const served = BUNDLED.map(l => `1.${l.kubectlMinor - 1}-1.${l.kubectlMinor + 1}`).join(' and ');
    throw constructError(scope, `no default kubectl layer for Kubernetes ${show(version.version)} (defaults exist for ${served}). Install ${pkg} and pass it: kubectlLayer: new ${cls}(this, 'KubectlLayer').`);
  }
  return layer.create(scope, id);
}
