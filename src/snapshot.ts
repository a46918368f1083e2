import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

const ASSET_HASH = /\b[0-9a-f]{64}\b/g;

/**
 * Helpers for users' snapshot tests of stacks with an `EksCluster`.
 *
 * An EKS stack's template names its assets (kubectl and AWS CLI layers, nested stack
 * templates) by content hash, so a snapshot changes whenever aws-cdk-lib or a layer
 * package is upgraded, even though nothing about access changed. `SnapshotTemplate.fromStack()`
 * replaces those hashes with a placeholder.
 *
 * For speed, set the environment variable `CDK_VALIDATION=false` in the test (aws-cdk-lib's
 * built-in CloudFormation validation plugin costs about 3 s per EKS synth; run cfn-lint on
 * `cdk synth` output instead) and build the test app with the context `aws:cdk:disable-asset-staging: true`
 * (otherwise each synth copies about 50 MB of layer assets to a temporary directory).
 */
export class SnapshotTemplate {
  /**
   * The synthesized template of `stack` (as `Template.fromStack(stack).toJSON()`), with
   * every 64-hex-digit asset hash replaced by `[ASSET-HASH]`.
   *
   * @param stack the stack to synthesize (its app is synthesized)
   */
  public static fromStack(stack: Stack): any {
    return SnapshotTemplate.normalize(Template.fromStack(stack).toJSON());
  }

  /**
   * Replaces every 64-hex-digit asset hash in a template (any JSON value) by `[ASSET-HASH]`.
   *
   * @param template the template, or any JSON value
   */
  public static normalize(template: any): any {
    return JSON.parse(JSON.stringify(template).replace(ASSET_HASH, '[ASSET-HASH]'));
  }

  private constructor() {}
}
