import { Resource, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** A cluster construct of aws-eks or aws-eks-v2. */
export type ClusterConstruct = IConstruct & { readonly clusterName: string };

/**
 * What tells two cluster constructs of one stack apart as clusters: the cluster name as
 * the template resolves it (a literal, or a CloudFormation expression such as a `Ref` to
 * the cluster or to a parameter, or an `Fn::ImportValue`), and, for a cluster the stack
 * creates with a literal `clusterName`, that literal.
 *
 * Two clusters are the same when they share a key. Equal expressions in one template
 * resolve to the same value at deploy time, so this never mistakes two clusters for one.
 * What it cannot see: different expressions (or a literal and an expression) that
 * happen to resolve to the same name at deploy time, e.g. two parameters with the same
 * value, a parameter and a literal, or a created cluster with a generated name and an
 * import of that name written out as a literal; and clusters in different stacks.
 */
export function clusterKeys(cluster: ClusterConstruct): string[] {
  const stack = Stack.of(cluster);
  const keys = [JSON.stringify(stack.resolve(cluster.clusterName))];
  if (cluster instanceof Resource) {
    // the name given to the cluster construct (a created cluster's clusterName is a Ref)
    const physicalName = (cluster as unknown as { physicalName?: unknown }).physicalName;
    if (typeof physicalName === 'string' && !Token.isUnresolved(physicalName)) keys.push(JSON.stringify(physicalName));
  }
  return keys;
}

/** Whether two cluster constructs of one stack are known to be the same cluster. */
export function sameCluster(a: ClusterConstruct, b: ClusterConstruct): boolean {
  const keys = new Set(clusterKeys(a));
  return clusterKeys(b).some(k => keys.has(k));
}
