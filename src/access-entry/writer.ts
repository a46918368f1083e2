import { Lazy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import { Construct } from 'constructs';
import { AwsAuthEntry, AwsAuthModel } from '../aws-auth/model';
import { sha256Hex } from '../private/hash';

/** The EKS access policy that stands for `system:masters` in access-entry modes. */
export const CLUSTER_ADMIN_POLICY = 'AmazonEKSClusterAdminPolicy';

/**
 * Writes one `AWS::EKS::AccessEntry` per principal of the model (the same merged entries
 * aws-auth gets): full ARN with its path, the username, the Kubernetes groups, and
 * `AmazonEKSClusterAdminPolicy` in place of `system:masters`, which EKS does not accept
 * in access entries. Properties render lazily, so later grants to the same principal
 * still land in its one entry.
 */
export class AccessEntryWriter {
  private readonly scope: Construct;
  private readonly slots: eks.CfnAccessEntry[] = [];
  /** stable key -> merge key of the model, kept sorted by stable key */
  private readonly modelKeys = new Map<string, string>();
  private sorted: string[] = [];

  constructor(scope: Construct, private readonly cluster: eks.Cluster, private readonly model: AwsAuthModel) {
    this.scope = new Construct(scope, 'AccessEntries');
  }

  /**
   * Ensures the principal has an access entry.
   *
   * Constructs render in creation order, so slot i renders the i-th principal in sorted
   * order (the template does not depend on the order of grants), and each slot's logical
   * id is derived from the principal it renders, so an entry keeps its logical id (and is
   * never replaced) when other principals come and go.
   */
  public add(stableKey: string, modelKey: string): void {
    if (this.modelKeys.has(stableKey)) return;
    this.modelKeys.set(stableKey, modelKey);
    this.sorted = Array.from(this.modelKeys.keys()).sort();
    this.slots.push(this.createSlot(this.slots.length));
    const prefix = sha256Hex(this.scope.node.path).slice(0, 8);
    this.sorted.forEach((key, i) => this.slots[i].overrideLogicalId(`AccessEntry${prefix}${sha256Hex(key).slice(0, 16).toUpperCase()}`));
  }

  /** How many access entries there are. */
  public get count(): number {
    return this.slots.length;
  }

  private createSlot(index: number): eks.CfnAccessEntry {
    const partition = Stack.of(this.scope).partition;
    const entry = (): AwsAuthEntry => this.model.entry(this.modelKeys.get(this.sorted[index])!)!;
    return new eks.CfnAccessEntry(this.scope, `Entry${index}`, {
      clusterName: this.cluster.clusterName,
      principalArn: Lazy.string({ produce: () => entry().fullArn ?? entry().arn }),
      username: Lazy.string({ produce: () => entry().username }),
      kubernetesGroups: Lazy.list({ produce: () => entry().groups.filter(g => g !== 'system:masters') }, { omitEmpty: true }),
      accessPolicies: Lazy.any({
        produce: () => (entry().groups.includes('system:masters')
          ? [{ policyArn: `arn:${partition}:eks::aws:cluster-access-policy/${CLUSTER_ADMIN_POLICY}`, accessScope: { type: 'cluster' } }]
          : undefined),
      }),
      type: 'STANDARD',
    });
  }
}
