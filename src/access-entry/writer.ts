import { Lazy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import { Construct } from 'constructs';
import { accessPolicyArn, Association } from './access-policies';
import { AwsAuthEntry, AwsAuthModel } from '../aws-auth/model';
import { EntryIdentity } from '../private/bound-principal';
import { sha256Hex } from '../private/hash';

/** What an access entry carries besides the model's entry: its access policies, and the groups they replace. */
export interface AccessEntryPolicies {
  /** The associations of a principal (merge key of the model). */
  associations(modelKey: string): Association[];
  /** Groups of the model's entry that access policies stand for (not written as Kubernetes groups). */
  replacedGroups(modelKey: string): ReadonlySet<string>;
}

/**
 * Writes one `AWS::EKS::AccessEntry` per principal of the model (the same merged entries
 * aws-auth gets): full ARN with its path, the username, the Kubernetes groups, and the
 * access policies (`AmazonEKSClusterAdminPolicy` in place of `system:masters`, which EKS
 * does not accept in access entries; the built-in levels' policies where they are written
 * as access policies). Written with the L1 `CfnAccessEntry` of both aws-eks modules, so
 * what we render does not follow changes of their L2 constructs. Properties render
 * lazily, so later grants to the same principal still land in its one entry.
 */
export class AccessEntryWriter {
  private readonly scope: Construct;
  private readonly slots: eks.CfnAccessEntry[] = [];
  /** stable key -> merge key of the model, kept sorted by stable key */
  private readonly modelKeys = new Map<string, string>();
  /** stable key -> who the principal is (for its logical id) */
  private readonly identities = new Map<string, EntryIdentity>();
  private sorted: string[] = [];

  constructor(
    scope: Construct,
    private readonly clusterName: string,
    private readonly model: AwsAuthModel,
    private readonly policies: AccessEntryPolicies,
  ) {
    this.scope = new Construct(scope, 'AccessEntries');
  }

  /**
   * Ensures the principal has an access entry.
   *
   * Constructs render in creation order, so slot i renders the i-th principal in sorted
   * order (the template does not depend on the order of grants), and each slot's logical
   * id is derived from the cluster's identity and the principal it renders (its account
   * only when another principal of the cluster has its name and its account is not the
   * stack's), so an entry keeps its logical id (and is never replaced, which EKS would
   * refuse with 409: CloudFormation creates the new entry before it deletes the old) when
   * other principals come and go (except a second one of its name from another account),
   * the stack's env is pinned, or an imported cluster's construct is renamed.
   */
  public add(stableKey: string, modelKey: string, identity: EntryIdentity): void {
    if (this.modelKeys.has(stableKey)) return;
    this.modelKeys.set(stableKey, modelKey);
    this.identities.set(stableKey, identity);
    this.sorted = Array.from(this.modelKeys.keys()).sort();
    this.slots.push(this.createSlot(this.slots.length));
    // the cluster by its name as the template has it (a literal, or a reference to the
    // cluster resource), not by construct path or env: renaming the construct of an imported
    // cluster, or pinning the stack's env, keeps every entry where it is
    const prefix = sha256Hex(JSON.stringify(Stack.of(this.scope).resolve(this.clusterName))).slice(0, 8);
    const names = new Map<string, number>();
    for (const { name } of this.identities.values()) names.set(name, (names.get(name) ?? 0) + 1);
    const used = new Set<string>();
    this.sorted.forEach((key, i) => {
      // the principal's name; its account too when another principal of the cluster has that
      // name and it is not the stack's own account
      const { name, account } = this.identities.get(key)!;
      const shared = names.get(name)! > 1 && account !== '@stack';
      let id = `AccessEntry${prefix}${sha256Hex(shared ? `${name}\n${account}` : name).slice(0, 16).toUpperCase()}`;
      if (used.has(id)) id = `AccessEntry${prefix}${sha256Hex(key).slice(0, 16).toUpperCase()}`;
      used.add(id);
      this.slots[i].overrideLogicalId(id);
    });
  }

  /** How many access entries there are. */
  public get count(): number {
    return this.slots.length;
  }

  /**
   * Makes every access entry (now and later) wait for `dependency`: CloudFormation creates
   * or updates the entries only after it (a dependency on a construct covers every
   * resource under it at synth).
   */
  public dependOn(dependency: Construct): void {
    this.scope.node.addDependency(dependency);
  }

  /** The access entries written so far. */
  public get entries(): eks.CfnAccessEntry[] {
    return [...this.slots];
  }

  private createSlot(index: number): eks.CfnAccessEntry {
    const partition = Stack.of(this.scope).partition;
    const modelKey = () => this.modelKeys.get(this.sorted[index])!;
    const entry = (): AwsAuthEntry => this.model.entry(modelKey())!;
    return new eks.CfnAccessEntry(this.scope, `Entry${index}`, {
      clusterName: this.clusterName,
      principalArn: Lazy.string({ produce: () => entry().fullArn ?? entry().arn }),
      username: Lazy.string({ produce: () => entry().username }),
      kubernetesGroups: Lazy.list({
        produce: () => {
          const replaced = this.policies.replacedGroups(modelKey());
          return entry().groups.filter(g => g !== 'system:masters' && !replaced.has(g));
        },
      }, { omitEmpty: true }),
      accessPolicies: Lazy.any({
        produce: () => {
          const associations = this.policies.associations(modelKey());
          return associations.length === 0 ? undefined : associations.map(a => ({
            policyArn: accessPolicyArn(partition, a.policy),
            accessScope: a.namespaces ? { type: 'namespace', namespaces: a.namespaces } : { type: 'cluster' },
          }));
        },
      }),
      type: 'STANDARD',
    });
  }
}
