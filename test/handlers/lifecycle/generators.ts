import * as fc from 'fast-check';
import { FaultKind, FaultSpec, ForeignWrite, OpSpec, Scenario } from './model';
import { LEVELS, Level, NodeGroup, POOL, VersionSpec } from './versions';

/** fast-check arbitraries for whole scenarios. */

export const versionSpec: fc.Arbitrary<VersionSpec> = fc.record({
  grants: fc.uniqueArray(
    fc.tuple(fc.integer({ min: 0, max: POOL.length - 1 }), fc.constantFrom<Level>(...LEVELS)),
    { maxLength: 6, selector: g => g[0] },
  ),
  awsAuthLogicalId: fc.constantFrom('AwsAuth', 'AwsAuth', 'AwsAuth', 'AwsAuthV2'),
  rbacChunks: fc.constantFrom<1 | 2>(1, 1, 2),
  rbacRenamed: fc.constantFrom(false, false, false, true),
});

const faultKinds: FaultKind[] = ['throw-before', 'lost-throw', 'lost-500', 'down', 'lost-then-down', '409', '429', '503', '500'];
export const fault: fc.Arbitrary<FaultSpec> = fc.record({
  invocation: fc.integer({ min: 0, max: 5 }),
  kind: fc.constantFrom(...faultKinds),
  at: fc.integer({ min: 0, max: 3 }),
});

export const foreignWrite: fc.Arbitrary<ForeignWrite> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<ForeignWrite>('eksctl', 'eksctl-dup', 'hand-comment', 'hand-date', 'placeholder-users', 'other-stack', 'sso-ops') },
  // rare: writes the handler may refuse to deploy over (a conflict on one of the stack's own principals)
  { weight: 1, arbitrary: fc.oneof(fc.constant<ForeignWrite>('sso-dev'), fc.integer({ min: 0, max: POOL.length - 1 }).map(i => ({ conflict: i }) as ForeignWrite)) },
);

function op(kind: 'deploy' | 'delete'): fc.Arbitrary<OpSpec> {
  return fc.record({
    kind: fc.constant(kind),
    version: kind === 'deploy' ? versionSpec : fc.constant(undefined),
    failAt: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 8 }) }),
    statusKnown: fc.boolean(),
    resourcesKnown: fc.boolean(),
    soon: fc.constantFrom(false, false, false, true),
    faults: fc.array(fault, { maxLength: 2 }),
    repeat: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 1 }),
    foreign: fc.array(foreignWrite, { maxLength: 2 }),
  }) as fc.Arbitrary<OpSpec>;
}

export const scenario: fc.Arbitrary<Scenario> = fc.record({
  start: fc.constantFrom<Scenario['start']>('fresh', 'fresh', 'aws-eks', 'previous-release'),
  nodeGroups: fc.subarray<NodeGroup>(['linux', 'windows']),
  ops: fc.tuple(fc.array(op('deploy'), { minLength: 3, maxLength: 7 }), fc.option(op('delete'), { nil: undefined }))
    .map(([deploys, del]) => (del ? [...deploys, del] : deploys)),
});
