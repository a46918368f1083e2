import { OpSpec, Scenario } from './model';
import { VersionSpec } from './versions';

/**
 * Fixed scenarios that fast-check found failing (shrunk counterexamples, written out):
 * they run on every test run, before the random ones. Add each new counterexample
 * (`Counterexample: [...]` in the failure) as an entry with a line saying what it found.
 */

const EMPTY: VersionSpec = { grants: [], awsAuthLogicalId: 'AwsAuth', rbacChunks: 1, rbacRenamed: false };
const deploy = (extra: Partial<OpSpec> = {}): OpSpec => ({ kind: 'deploy', version: EMPTY, statusKnown: false, faults: [], repeat: [], foreign: [], ...extra });
const del = (extra: Partial<OpSpec> = {}): OpSpec => ({ kind: 'delete', statusKnown: false, faults: [], repeat: [], foreign: [], ...extra });

/** Seed 1201's start: AwsAuthV2 takes Dev over; a failed deploy; a replacing create revokes Dev, lost, its cleanup unreachable. */
const TAKEN_OVER_THEN_LOST_REVOCATION: OpSpec[] = [
  deploy({ version: { ...EMPTY, grants: [[0, 'admin']], awsAuthLogicalId: 'AwsAuthV2' } }),
  deploy({ failAt: 0 }),
  deploy({ faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
];

export const REGRESSIONS: Array<{ readonly name: string; readonly scenario: Scenario; readonly knownGap?: boolean }> = [
  {
    // rbac (soak seed 7303, path 514:…, and on the handler before this entry): a lost RBAC create (its cleanup
    // unreachable) leaves a claim on a binding that the rollback re-applies; the next version revokes it, and
    // the cleanup's Delete of the other chunk fails once after releasing its own claim; its retry found none
    // of its own and left the lost create's claim, so the revoked binding stayed
    name: 'a lost RBAC create\'s claim, then a revocation whose cleanup is retried after its own claim went',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-a']] } }),
        deploy({
          version: { ...EMPTY, grants: [[0, 'view:team-a'], [1, 'edit:team-b'], [2, 'edit:team-a']], rbacChunks: 2 },
          faults: [{ invocation: 3, kind: 'lost-then-down', at: 0 }],
        }),
        deploy({ resourcesKnown: true, faults: [{ invocation: 1, kind: 'down', at: 2 }] }),
        deploy(),
        deploy(),
      ],
    },
  },
  {
    // admin-lost / declared: the rollback re-applies aws-eks's aws-auth (label + last-applied again),
    // then the cleanup's Delete of the new aws-auth resource removes the admin (issue case 1)
    name: 'a rolled-back upgrade from aws-eks keeps the admin',
    scenario: { start: 'previous-release', nodeGroups: [], ops: [deploy({ failAt: 8 }), deploy(), deploy()] },
  },
  {
    // node-lost / foreign-changed: the node role EKS wrote (aws-eks then applied it identically) is taken
    // over as the stack's own and removed by the stack's delete
    name: 'the stack\'s delete after an upgrade from aws-eks keeps the node role EKS wrote',
    scenario: { start: 'aws-eks', nodeGroups: ['linux'], ops: [deploy({ failAt: 0 }), deploy(), deploy(), del()] },
  },
  {
    // refusal-unjustified + stuck: an sso: mapping someone wrote makes every aws-auth write fail,
    // even the Delete (the stack cannot be deleted)
    name: 'an sso: mapping by hand does not block the stack\'s delete',
    scenario: { start: 'fresh', nodeGroups: [], ops: [deploy(), deploy(), deploy({ foreign: ['sso-dev'] }), del()] },
  },
  {
    // transient-failed: one connection reset before the request reached the server fails the create
    name: 'a connection reset during the first create does not fail it',
    scenario: { start: 'fresh', nodeGroups: [], ops: [deploy({ faults: [{ invocation: 0, kind: 'throw-before', at: 0 }] }), deploy(), deploy()] },
  },
  {
    // foreign-text: the handler rewrites a section it changes as JSON, so a hand edit loses its comments and layout
    name: 'a hand edit with comments stays verbatim',
    scenario: { start: 'fresh', nodeGroups: ['windows'], ops: [deploy({ foreign: ['hand-comment'] }), deploy({ version: { ...EMPTY, grants: [[1, 'edit:team-a']] } }), deploy()] },
  },
  {
    // foreign-changed: `username: 2024-01-02` and group `1:30` are strings for aws-iam-authenticator (go-yaml v2);
    // a YAML 1.1 reader with timestamps and base 60 rewrites them as a date and 90
    name: 'a hand edit with a date-like username and a 1:30 group keeps its values',
    scenario: { start: 'fresh', nodeGroups: [], ops: [deploy({ foreign: ['hand-date'] }), deploy({ version: { ...EMPTY, grants: [[0, 'admin']] } }), deploy()] },
  },
  {
    // refusal-unjustified: a `mapUsers: ""` placeholder (skipped by aws-iam-authenticator) is refused as "not a list"
    name: 'a placeholder mapUsers does not block a deploy',
    scenario: { start: 'fresh', nodeGroups: [], ops: [deploy(), deploy({ foreign: ['placeholder-users'], version: { ...EMPTY, grants: [[6, 'view:team-a']] } }), deploy()] },
  },
  {
    // rbac: the rollback cleanup's Delete of a new RBAC chunk deletes the binding the previous release applied (issue case 2)
    name: 'a rolled-back upgrade keeps the previous release\'s RBAC objects',
    scenario: { start: 'previous-release', nodeGroups: [], ops: [deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-b']] }, failAt: 4 }), deploy(), deploy()] },
  },
  {
    // revoked: a Create whose write landed, answer lost, connection down (its own cleanup fails) leaves a stale
    // owner of the same stack claiming Dev; revoking Dev later keeps it (issue case 3)
    name: 'a stale owner from a lost answer does not keep a revoked grant',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-b'], [1, 'view:team-a']], awsAuthLogicalId: 'AwsAuthV2' } }),
        deploy({ version: { ...EMPTY, grants: [[0, 'admin']] }, failAt: 1, faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        deploy(),
      ],
    },
  },
  {
    // deleted-leftover + refusal-unjustified: after a failed first create with a lost answer, the re-created stack
    // (a new stack id) is refused forever and the stale entries stay
    name: 'a failed first create with a lost answer does not block the re-created stack',
    scenario: { start: 'fresh', nodeGroups: [], ops: [deploy({ faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }), deploy(), deploy()] },
  },
  {
    // found after the ownership rework: a hand edit maps the stack's admin-granted principal a second time,
    // a failed update, then an update that revokes it
    name: 'a hand-made second entry for a granted principal, then its revocation',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[3, 'admin']] } }),
        deploy({ failAt: 0, foreign: [{ conflict: 3 }] }),
        deploy({ failAt: 3 }),
      ],
    },
  },
  {
    // deleted-leftover: after a lost replacing create (its cleanup could not reach the cluster), a successful
    // update of the live instance made that phantom its `previous`; the stack's delete (status unknown) then
    // brought the phantom back as current, and the admin entry stayed (found while working on OPEN_GAPS #1)
    name: 'a lost replacing create, a successful update, then the stack\'s delete with the status unknown',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, awsAuthLogicalId: 'AwsAuthV2' } }),
        deploy({ faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        deploy({ version: { ...EMPTY, grants: [[0, 'admin']], awsAuthLogicalId: 'AwsAuthV2' } }),
        del(),
      ],
    },
  },
  {
    // taken-over (was OPEN_GAPS #2): a taken-over SSO entry revoked by a replacement whose rollback could not
    // put it back (an sso: mapping by hand covers it meanwhile), then revoked by a failed update whose rollback
    // grants it again: with the status unknown it ended as the stack's own and went with the stack
    name: 'a taken-over entry through a rolled-back replacement and a rolled-back revocation',
    scenario: {
      start: 'previous-release',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[4, 'admin']] } }),
        deploy({ version: { ...EMPTY, awsAuthLogicalId: 'AwsAuthV2' }, failAt: 7, foreign: ['sso-dev'] }),
        deploy({ failAt: 0 }),
        deploy({ version: { ...EMPTY, grants: [[4, 'admin']] } }),
        deploy({ failAt: 3 }),
        del(),
      ],
    },
  },
  {
    // taken-over (seed 20261130): a replacing create that was lost with its cleanup revoked a taken-over entry;
    // the next deploy created the same logical id again, granting it: it became the stack's own and went with
    // the stack's delete (status unknown), although no successful version ever revoked it
    name: 'a taken-over entry revoked by a lost create, granted again by the next create of that logical id',
    scenario: {
      start: 'previous-release',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[1, 'admin']], awsAuthLogicalId: 'AwsAuthV2' } }),
        deploy({ failAt: 0 }),
        deploy({ faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        deploy({ version: { ...EMPTY, grants: [[1, 'admin']] } }),
        del(),
      ],
    },
  },
  {
    // deleted-leftover (found while working on OPEN_GAPS #1): a replacing create lost with its cleanup, then a
    // successful replacement under a third logical id kept the lost one as `previous`; the stack's delete
    // (status unknown) brought it back, and the admin entry stayed
    name: 'a lost replacing create, a successful replacement, then the stack\'s delete with the status unknown',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, awsAuthLogicalId: 'AwsAuthV2' } }),
        deploy({ faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        deploy({ version: { ...EMPTY, awsAuthLogicalId: 'AwsAuthV3' } }),
        del(),
      ],
    },
  },
  {
    // deleted-leftover (seed 99): a failed first create whose answer was lost (cleanup unreachable) under one
    // logical id; the stack created again under another took the deleted stack's instance as its `previous`,
    // and its delete (status unknown) brought it back: the admin entry stayed
    name: 'a lost first create, the stack created again under another logical id, then its delete with the status unknown',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ failAt: 0 }),
        deploy({ version: { ...EMPTY, awsAuthLogicalId: 'AwsAuthV2' }, faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        deploy(),
        del({ failAt: 0 }),
      ],
    },
  },
  {
    // deleted-leftover (was OPEN_GAPS #1; inherent, excused and counted by the oracle): a replacing create (new
    // logical id) whose answer was lost and whose cleanup could not reach the cluster holds the record; with the
    // stack's status unknown, the stack's delete of the replaced instance is the same event over the same
    // aws-auth as the cleanup after a successful replacement, and keeps the admin entry
    name: 'a lost replacing create, then the stack\'s delete with the status unknown',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ failAt: 0 }),
        deploy({ version: { ...EMPTY, awsAuthLogicalId: 'AwsAuthV2' } }),
        deploy({ faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        del(),
      ],
    },
  },
  {
    // deleted-leftover (seed 99; inherent, excused and counted): the first create of the reconciler's aws-auth
    // resource (an upgrade from aws-eks) is lost with its cleanup; the next deploy creates it under another logical
    // id, which keeps the lost one as the instance it replaced; the stack's delete (status unknown) is the same event
    // as that deploy's rollback cleanup, and brings the lost one's entries back
    name: 'a lost first aws-auth create, a create under another logical id, then the stack\'s delete with the status unknown',
    scenario: {
      start: 'aws-eks',
      nodeGroups: [],
      ops: [
        deploy({ failAt: 0 }),
        deploy({ version: { ...EMPTY, grants: [[0, 'admin']], awsAuthLogicalId: 'AwsAuthV2' }, faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        deploy(),
        del({ failAt: 0 }),
      ],
    },
  },
  {
    // revoked (soak, seed 777001): a create of the reconciler's aws-auth resource over aws-eks's (an upgrade) is lost
    // with its cleanup, and the rollback re-applies aws-eks's manifest over its write; the next create of that logical
    // id took back the lost one's claim (other values) instead of aws-eks's entry as it was, and so left a revoked
    // system:masters in place
    name: 'a lost upgrade create overwritten by aws-eks\'s rollback, then a create that revokes the entry',
    scenario: {
      start: 'previous-release',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[2, 'admin']] }, foreign: [{ conflict: 2 }] }),
        deploy({ version: { ...EMPTY, grants: [[2, 'view:team-b']] }, faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        deploy(),
        deploy({ failAt: 0 }),
      ],
    },
  },
  {
    // rbac (was a known gap, excused): a create of a new chunk logical id whose write landed, whose answer was lost
    // and whose cleanup could not reach the cluster leaves a claim under that logical id, which the rollback removed
    // from the stack; the revocation by the chunk that held the binding kept it alive. With the stack's resource list
    // the stale claim is released (failed before: the binding stayed)
    name: 'a stale chunk claim does not keep a revoked binding when the stack\'s resources are known',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[1, 'edit:team-a']] }, resourcesKnown: true }),
        deploy({ version: { ...EMPTY, grants: [[1, 'edit:team-a']], rbacRenamed: true }, resourcesKnown: true, faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        deploy({ version: { ...EMPTY, grants: [[2, 'view:team-a']] }, resourcesKnown: true, statusKnown: true }),
        deploy({ version: { ...EMPTY, grants: [[2, 'view:team-a']], rbacRenamed: true }, resourcesKnown: true }),
        del({ resourcesKnown: true, statusKnown: true }),
      ],
    },
  },
  {
    // the same with the status unknown and the stack's delete as the revocation
    name: 'a stale chunk claim does not outlive the stack\'s delete when the stack\'s resources are known',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[1, 'edit:team-a']] }, resourcesKnown: true }),
        deploy({ version: { ...EMPTY, grants: [[1, 'edit:team-a']], rbacChunks: 2 }, resourcesKnown: true, faults: [{ invocation: 0, kind: 'lost-then-down', at: 0 }] }),
        del({ resourcesKnown: true, statusKnown: true }),
      ],
    },
  },
  {
    // revoked (guard, found while studying the seed 1201 entries below): the cleanup after a successful replacement that
    // revokes a taken-over entry, with the status unknown. It is the same Delete (of the replaced instance), over
    // the same aws-auth and record, as the stack's delete in the open gaps; a handler that put the taken-over entry
    // back on that Delete (tried) passes them and fails here: Dev keeps the system:masters its version revoked
    name: 'a successful replacement that revokes a taken-over entry, its cleanup with the status unknown',
    scenario: {
      start: 'previous-release',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[0, 'admin']], awsAuthLogicalId: 'AwsAuthV2' } }),
        deploy({ failAt: 0 }),
        deploy(),
      ],
    },
  },
  {
    // rbac (seed 42 with LIFECYCLE_RUNS=300; was an open gap): a create of a new chunk logical id (RbacChunk0)
    // applies the team-a binding, its answer is lost and its own cleanup cannot reach the cluster: the binding keeps
    // a claim under RbacChunk0 beside Rbac0's. A later version creates RbacChunk0 again, without that binding, and the
    // cleanup's Delete of Rbac0 releases Rbac0's claim; the stale claim's logical id is listed (the new, live
    // RbacChunk0), so the list could not release it, and the new create never visited it. Fixed: every RBAC event
    // ends with a sweep (objects.ts, sweepStaleClaims), in which a create releases its own logical id's claims on
    // objects outside its properties
    name: 'a stale chunk claim under a logical id that a later chunk without the object reuses does not keep a revoked binding',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-a']] } }),
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-a'], [1, 'view:team-b']], rbacRenamed: true }, resourcesKnown: true, faults: [{ invocation: 2, kind: 'lost-then-down', at: 0 }] }),
        deploy({ failAt: 0, resourcesKnown: true, foreign: ['sso-dev'] }),
        deploy({ version: { ...EMPTY, grants: [[4, 'admin']] }, resourcesKnown: true }),
        deploy({ version: { ...EMPTY, grants: [[0, 'view:team-b']], rbacRenamed: true }, resourcesKnown: true }),
        deploy(),
      ],
    },
  },
  {
    // the same, shorter (no refused aws-auth update in between)
    name: 'a stale chunk claim under a reused logical id, shorter',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-a']] } }),
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-a'], [1, 'view:team-b']], rbacRenamed: true }, resourcesKnown: true, faults: [{ invocation: 2, kind: 'lost-then-down', at: 0 }] }),
        deploy({ version: { ...EMPTY, grants: [[0, 'view:team-b']], rbacRenamed: true }, resourcesKnown: true }),
        deploy(),
      ],
    },
  },
  {
    // rbac (review of the sweep, finding 2): the shorter form above with a 409 on the sweep's write (another chunk
    // of the deploy writing the same object): the sweep skipped the object, and the revoked binding stayed. Fixed:
    // a conflicting sweep write reads the object again and decides again
    name: 'a stale chunk claim under a reused logical id, the sweep\'s write conflicting once',
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-a']] } }),
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-a'], [1, 'view:team-b']], rbacRenamed: true }, resourcesKnown: true, faults: [{ invocation: 2, kind: 'lost-then-down', at: 0 }] }),
        deploy({ version: { ...EMPTY, grants: [[0, 'view:team-b']], rbacRenamed: true }, resourcesKnown: true, faults: [{ invocation: 2, kind: '409', at: 0 }] }),
        deploy(),
      ],
    },
  },
  {
    // taken-over (seed 4242 with LIFECYCLE_RUNS=1000, found on the one-claim-per-write release): a lost create of a
    // renamed chunk also wrote over the binding Rbac0 had taken over from the first release (a stale claim, taken over
    // too); the stack's delete (status known) released Rbac0's claim first, then the stale one with the undo rule,
    // which keeps taken-over objects: the binding outlived the stack. Fixed: once a released claim takes a taken-over
    // object with it, the object goes with its last claim
    name: 'a stale claim beside a taken-over binding does not keep it through the stack\'s delete',
    scenario: {
      start: 'previous-release',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-b']] }, failAt: 0 }),
        deploy(),
        deploy({ version: { ...EMPTY, grants: [[0, 'edit:team-b']] } }),
        deploy({ version: { ...EMPTY, grants: [[1, 'edit:team-a'], [0, 'edit:team-b']], rbacRenamed: true }, faults: [{ invocation: 2, kind: 'lost-then-down', at: 0 }] }),
        del({ statusKnown: true, resourcesKnown: true }),
      ],
    },
  },
  {
    // rbac (seed 123 with LIFECYCLE_RUNS=300; was an open gap): the version drops its only chunk; the next creates
    // Rbac0 again, its POST of the binding lands, its answer is lost and its own cleanup cannot reach the cluster; the
    // deploy after changes no RBAC resource, so no handler runs and the binding the last successful version does not
    // declare stays. Inherent (nothing is invoked), and now excused by the oracle's rule that matches README: a stale
    // claim stays until the next RBAC event of the stack that can release it (its own logical id's next create or
    // update, or any RBAC event once CloudFormation does not list its logical id); counted as a known gap.
    name: 'a stale chunk claim from a lost create stays only until the next RBAC event (none here: excused and counted)',
    knownGap: true,
    scenario: {
      start: 'fresh',
      nodeGroups: [],
      ops: [
        deploy({ version: { ...EMPTY, grants: [[0, 'view:team-b']] } }),
        deploy(),
        deploy({ version: { ...EMPTY, grants: [[0, 'view:team-b']] }, resourcesKnown: true, faults: [{ invocation: 2, kind: 'lost-then-down', at: 0 }] }),
        deploy({ failAt: 0, resourcesKnown: true }),
      ],
    },
  },
  {
    // taken-over (seed 1201 with LIFECYCLE_RUNS=300; was an open gap; aws-auth, no resource list). Decided, not fixed:
    // 1. Create AwsAuthV2 takes over Dev from the previous release's aws-eks manifest and grants it.
    // 2. A deploy fails before the aws-auth resource: nothing happens to it.
    // 3. Create AwsAuth (new logical id: a replacement) revokes Dev; its write lands, its answer is lost, its own
    //    cleanup cannot reach the cluster. The record: current = that phantom (Dev in its `revoked`), previous =
    //    AwsAuthV2's instance (Dev taken over). CloudFormation still has AwsAuthV2 and never had the phantom.
    // 4. Create AwsAuth again is refused before it writes (an sso: mapping covers its SSO role); a refusal writes
    //    nothing (invariant 5), so it cannot take the phantom back either.
    // 5. The stack's delete with the status unknown: Delete of AwsAuthV2's instance, the record's `previous`. That is
    //    the same event over the same aws-auth and record as the cleanup after a successful replacement by the
    //    phantom ('a successful replacement that revokes a taken-over entry, its cleanup with the status unknown'
    //    above), where Dev must stay removed: a version revoked its system:masters. Putting Dev back here (tried on
    //    branch issue-12-g) puts a revoked system:masters back there. The handler keeps the revocation: Dev stays
    //    removed, which is also what this delete does with the status known (a real stack delete removes taken-over
    //    entries; the reconciler's role is allowed cloudformation:DescribeStacks, so only a failed DescribeStacks
    //    leaves the status unknown). The oracle's rule "keep taken-over entries when the status is unknown" yields
    //    here to "no revoked grant comes back": excused and counted (Oracle.lostCreateRevoked), README known gaps.
    name: 'a taken-over entry revoked by a lost create whose retry is refused, then the stack\'s delete with the status unknown (stays revoked)',
    knownGap: true,
    scenario: {
      start: 'previous-release',
      nodeGroups: [],
      ops: [...TAKEN_OVER_THEN_LOST_REVOCATION, deploy({ version: { ...EMPTY, grants: [[4, 'admin']] }, foreign: ['sso-dev'] }), del()],
    },
  },
  {
    // the same without the refused create: the lost replacing create that revoked the taken-over entry, then the
    // stack's delete with the status unknown; same reason, same outcome
    name: 'a taken-over entry revoked by a lost replacing create, then the stack\'s delete with the status unknown (stays revoked)',
    knownGap: true,
    scenario: { start: 'previous-release', nodeGroups: [], ops: [...TAKEN_OVER_THEN_LOST_REVOCATION, del()] },
  },
];

/**
 * Counterexamples the handler still fails (open gaps, README "The reconciler"): they run as
 * `test.failing`, so the day one passes, the test run says so and it moves up. None today.
 */
export const OPEN_GAPS: Array<{ readonly name: string; readonly scenario: Scenario }> = [];
