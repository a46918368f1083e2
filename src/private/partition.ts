import { Stack, Token } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';

/**
 * The partition of a stack when it is known at synth time (from a literal partition or
 * a literal region), otherwise the stack's partition token.
 */
export function stackPartition(stack: Stack): string {
  if (!Token.isUnresolved(stack.partition)) return stack.partition;
  if (!Token.isUnresolved(stack.region)) {
    const partition = RegionInfo.get(stack.region).partition;
    if (partition) return partition;
  }
  return stack.partition;
}
