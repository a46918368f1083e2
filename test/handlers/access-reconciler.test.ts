import * as YAML from 'yaml';
import { ADMIN, ALICE, CONNECTION, DEV, FAST, NODE, NODE_ROLE, QA, STACK_A, STACK_B, api, awsAuthEvent, awsAuthOf, event, recordOf } from './events';
import { FakeKube, startFakeKube, touch } from './fake-kube';
import { AWS_AUTH_PATH, FailSafeError, recordKey } from '../../src/handlers/access-reconciler/aws-auth';
import { DispatchContext, dispatch } from '../../src/handlers/access-reconciler/index';
import { HttpKubeApi } from '../../src/handlers/access-reconciler/kube';
import { GONE_CLAIM_MIN_AGE_MS, ownerKey } from '../../src/handlers/access-reconciler/objects';
import { AWS_AUTH_RESOURCE_TYPE, NAMESPACES_RESOURCE_TYPE, RBAC_RESOURCE_TYPE } from '../../src/handlers/access-reconciler/protocol';

/** aws-auth as eksctl and EKS write it: YAML, node role first, plus a hand-added entry. */
function seedAwsAuth(kube: FakeKube, extraRoles: object[] = []) {
  kube.put(AWS_AUTH_PATH, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system' },
    data: {
      mapRoles: `- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: ${NODE_ROLE}\n  username: system:node:{{EC2PrivateDNSName}}\n`
        + '- rolearn: arn:aws:iam::111122223333:role/HandAdded\n  username: hand\n  groups: [viewers]\n'
        + extraRoles.map(r => YAML.stringify([r])).join(''),
      mapUsers: '- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n  groups:\n  - ops\n',
      mapAccounts: '- "444455556666"\n',
    },
  });
}


const FOREIGN_ROLES = [NODE, { rolearn: 'arn:aws:iam::111122223333:role/HandAdded', username: 'hand', groups: ['viewers'] }];
const FOREIGN_USERS = [{ userarn: 'arn:aws:iam::111122223333:user/bob', username: 'bob', groups: ['ops'] }];


let kube: FakeKube;
beforeEach(async () => {
  kube = await startFakeKube();
});
afterEach(async () => {
  await kube.close();
});

describe('aws-auth', () => {
  test('creates the ConfigMap when it is absent, with an owner annotation', async () => {
    // WHEN
    const result = await dispatch(awsAuthEvent('Create', [ADMIN], [ALICE]), api(kube), FAST);

    // THEN
    const got = awsAuthOf(kube);
    expect(got.mapRoles).toEqual([ADMIN]);
    expect(got.mapUsers).toEqual([ALICE]);
    expect(recordOf(kube)).toEqual({
      v: 2,
      requests: [expect.any(String)],
      stack: STACK_A,
      current: {
        id: result.PhysicalResourceId,
        logicalId: 'AwsAuth',
        claims: [
          { section: 'mapRoles', arn: ADMIN.rolearn, username: ADMIN.username, groups: ADMIN.groups, how: 'created' },
          { section: 'mapUsers', arn: ALICE.userarn, username: ALICE.username, groups: ALICE.groups, how: 'created' },
        ],
      },
    });
    expect(kube.writes()).toEqual([{ method: 'POST', path: '/api/v1/namespaces/kube-system/configmaps', status: 201 }]);
  });

  test('merges into a ConfigMap holding node and foreign entries, which stay as they were', async () => {
    // GIVEN
    seedAwsAuth(kube);
    const before = kube.get(AWS_AUTH_PATH);

    // WHEN
    await dispatch(awsAuthEvent('Create', [ADMIN, DEV], [ALICE]), api(kube), FAST);

    // THEN
    const got = awsAuthOf(kube);
    expect(got.mapRoles).toEqual([...FOREIGN_ROLES, ADMIN, DEV]);
    expect(got.mapUsers).toEqual([...FOREIGN_USERS, ALICE]);
    expect(kube.get(AWS_AUTH_PATH).data.mapAccounts).toEqual(before.data.mapAccounts);
    expect(kube.writes().map(w => w.method)).toEqual(['PUT']);
  });

  test('an update that moves a grant from one role to another touches only this stack\'s entries', async () => {
    // GIVEN
    seedAwsAuth(kube);
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST);

    // WHEN
    await dispatch(awsAuthEvent('Update', [ADMIN, QA], [], { PhysicalResourceId, OldResourceProperties: { ...CONNECTION, MapRoles: [ADMIN, DEV], MapUsers: [] } }), api(kube), FAST);

    // THEN
    const got = awsAuthOf(kube);
    expect(got.mapRoles).toEqual([...FOREIGN_ROLES, ADMIN, QA]);
    expect(got.mapUsers).toEqual(FOREIGN_USERS);
    expect(recordOf(kube).current.id).toBe(PhysicalResourceId);
    expect(recordOf(kube).current.claims.map(c => c.arn)).toEqual([ADMIN.rolearn, QA.rolearn]);
  });

  test('a rollback (an update back to the old properties) restores the previous owned entries', async () => {
    // GIVEN
    seedAwsAuth(kube);
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST);
    const original = awsAuthOf(kube).mapRoles;
    await dispatch(awsAuthEvent('Update', [ADMIN, { ...QA, groups: ['x'] }], [], { PhysicalResourceId }), api(kube), FAST);

    // WHEN: CloudFormation rolls back with the properties swapped
    await dispatch(awsAuthEvent('Update', [ADMIN, DEV], [], { PhysicalResourceId }), api(kube), FAST);

    // THEN
    expect(awsAuthOf(kube).mapRoles).toEqual(original);
  });

  test('delete removes only this stack\'s entries and never the ConfigMap', async () => {
    // GIVEN
    seedAwsAuth(kube);
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN, DEV], [ALICE]), api(kube), FAST);

    // WHEN
    await dispatch(awsAuthEvent('Delete', [ADMIN, DEV], [ALICE], { PhysicalResourceId }), api(kube), FAST);

    // THEN
    const got = awsAuthOf(kube);
    expect(got.mapRoles).toEqual(FOREIGN_ROLES);
    expect(got.mapUsers).toEqual(FOREIGN_USERS);
    expect(Object.keys(got.annotations).filter(k => k.startsWith('owner.'))).toEqual([]);
    expect(kube.writes().some(w => w.method === 'DELETE')).toBe(false);
  });

  test('delete of the last owner leaves an empty ConfigMap in place', async () => {
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);
    await dispatch(awsAuthEvent('Delete', [ADMIN], [], { PhysicalResourceId }), api(kube), FAST);
    expect(kube.get(AWS_AUTH_PATH)).toBeDefined();
    expect(awsAuthOf(kube).mapRoles).toEqual([]);
  });

  test('an identical entry that was already there (EKS added the node role) is adopted and survives delete', async () => {
    // GIVEN
    seedAwsAuth(kube);

    // WHEN: aws-eks's node-role mapping, absorbed by our writer, is declared too
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [NODE, ADMIN]), api(kube), FAST);
    expect(awsAuthOf(kube).mapRoles).toEqual([...FOREIGN_ROLES, ADMIN]);
    await dispatch(awsAuthEvent('Delete', [NODE, ADMIN], [], { PhysicalResourceId }), api(kube), FAST);

    // THEN
    expect(awsAuthOf(kube).mapRoles).toEqual(FOREIGN_ROLES);
  });

  test('a replacement (new logical id) takes over; the old resource\'s delete leaves the entries', async () => {
    // GIVEN
    seedAwsAuth(kube);
    const old = await dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST);

    // WHEN: CloudFormation creates the new resource, then deletes the old one
    const replacement = await dispatch(awsAuthEvent('Create', [ADMIN, QA], [], { LogicalResourceId: 'Renamed' }), api(kube), FAST);
    await dispatch(awsAuthEvent('Delete', [ADMIN, DEV], [], { PhysicalResourceId: old.PhysicalResourceId }), api(kube), FAST);

    // THEN
    const got = awsAuthOf(kube);
    expect(got.mapRoles).toEqual([...FOREIGN_ROLES, ADMIN, QA]);
    expect(Object.keys(got.annotations)).toEqual([recordKey(STACK_A)]);
    expect(recordOf(kube).current.id).toBe(replacement.PhysicalResourceId);
    expect(recordOf(kube).previous).toBeUndefined();
  });

  test('an update that changes nothing writes only its request id into the record (the data stays byte for byte); delivered again, nothing', async () => {
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);
    const writes = kube.writes().length;
    const data = JSON.stringify(kube.get(AWS_AUTH_PATH).data);
    const update = awsAuthEvent('Update', [ADMIN], [], { PhysicalResourceId, OldResourceProperties: { ...CONNECTION, MapRoles: [ADMIN], MapUsers: [] } });
    await dispatch(update, api(kube), FAST);
    await dispatch(update, api(kube), FAST);
    expect(kube.writes().length).toBe(writes + 1);
    expect(JSON.stringify(kube.get(AWS_AUTH_PATH).data)).toBe(data);
    expect(recordOf(kube).requests?.slice(-1)).toEqual([update.RequestId]);
  });

  test('another cluster name is a new owner (CloudFormation then deletes the old one on the old cluster)', async () => {
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);
    const moved = await dispatch(awsAuthEvent('Update', [ADMIN], [], {
      PhysicalResourceId, ResourceProperties: { ...CONNECTION, ClusterName: 'other', MapRoles: [ADMIN], MapUsers: [] }, OldResourceProperties: { ...CONNECTION, MapRoles: [ADMIN], MapUsers: [] },
    }), api(kube), FAST);
    expect(moved.PhysicalResourceId).not.toBe(PhysicalResourceId);
  });

  test('a rollback that deletes the replacement keeps every entry the old resource still declares', async () => {
    // GIVEN: a logical-id change created B, which shares A's entries
    seedAwsAuth(kube);
    await dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST);
    const b = await dispatch(awsAuthEvent('Create', [ADMIN, QA], [], { LogicalResourceId: 'Renamed' }), api(kube), FAST);

    // WHEN: the deploy fails later and CloudFormation deletes B (A stays)
    await dispatch(awsAuthEvent('Delete', [ADMIN, QA], [], { LogicalResourceId: 'Renamed', PhysicalResourceId: b.PhysicalResourceId }), api(kube), FAST);

    // THEN: what A declares is all there; only B's own QA went
    expect(awsAuthOf(kube).mapRoles).toEqual([...FOREIGN_ROLES, ADMIN, DEV]);
  });

  test('an adopted entry this stack changed is put back as it was when the stack lets go', async () => {
    // GIVEN: the node role was there; this stack declares it identically, then adds a group
    seedAwsAuth(kube);
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [NODE]), api(kube), FAST);
    const widened = { ...NODE, groups: [...NODE.groups, 'extra'] };
    await dispatch(awsAuthEvent('Update', [widened], [], { PhysicalResourceId, OldResourceProperties: { ...CONNECTION, MapRoles: [NODE], MapUsers: [] } }), api(kube), FAST);
    expect(awsAuthOf(kube).mapRoles[0]).toEqual(widened);

    // WHEN
    await dispatch(awsAuthEvent('Delete', [widened], [], { PhysicalResourceId }), api(kube), FAST);

    // THEN
    expect(awsAuthOf(kube).mapRoles).toEqual(FOREIGN_ROLES);
  });

  test('taking over from aws-eks (prune label + last-applied): its entries are this stack\'s, so a grant revoked in the same deploy goes', async () => {
    // GIVEN: aws-auth as aws-eks's kubectl apply left it for this stack, plus an entry added by hand since
    const label = 'aws.cdk.eks/prune-c87eb7afb345d1d3add5eca5571e7ab0368c1eefa7';
    const applied = { mapRoles: JSON.stringify([NODE, ADMIN, DEV]), mapUsers: '[]', mapAccounts: '[]' };
    const hand = { rolearn: 'arn:aws:iam::111122223333:role/HandAdded', username: 'hand', groups: ['viewers'] };
    kube.put(AWS_AUTH_PATH, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'aws-auth',
        namespace: 'kube-system',
        labels: { [label]: '' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: applied, metadata: { labels: { [label]: '' }, name: 'aws-auth', namespace: 'kube-system' } }) },
      },
      data: { ...applied, mapRoles: JSON.stringify([NODE, ADMIN, DEV, hand]) },
    });

    // WHEN: the first deploy with the reconciler no longer grants DEV
    await dispatch(event(AWS_AUTH_RESOURCE_TYPE, 'Create', { MapRoles: [NODE, ADMIN], MapUsers: [], LegacyPruneLabel: label }), api(kube), FAST);

    // THEN
    const got = awsAuthOf(kube);
    expect(got.mapRoles).toEqual([NODE, ADMIN, hand]);
    expect(recordOf(kube).current.claims.map(c => [c.arn, c.how])).toEqual([[NODE.rolearn, 'adopted'], [ADMIN.rolearn, 'takenOver']]);
    expect(got.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
    expect(kube.get(AWS_AUTH_PATH).metadata.labels ?? {}).toEqual({});
  });

  test('foreign entries keep their YAML 1.1 meaning (a quoted "on" stays a string for aws-iam-authenticator)', async () => {
    const odd = '- rolearn: arn:aws:iam::111122223333:role/Odd\n  username: "on"\n  groups: ["no", "y"]\n';
    kube.put(AWS_AUTH_PATH, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: odd } });
    await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);
    expect(kube.get(AWS_AUTH_PATH).data.mapRoles.startsWith(odd)).toBe(true);
    const asAuthenticatorReadsIt = YAML.parse(kube.get(AWS_AUTH_PATH).data.mapRoles, { version: '1.1' });
    expect(asAuthenticatorReadsIt[0]).toEqual({ rolearn: 'arn:aws:iam::111122223333:role/Odd', username: 'on', groups: ['no', 'y'] });
  });

  // aws-iam-authenticator v0.7.18 (pkg/mapper/configmap/configmap.go ParseMap) keeps an entry
  // whose field has the wrong type, with that field empty, and every other entry of the
  // section: such an entry of someone else's blocks nothing (test/real/reconciler.test.ts
  // checks the same against the real reader).
  test('someone else\'s value of the wrong type (an unquoted y is a boolean in YAML 1.1) does not block a grant; it stays as written', async () => {
    const odd = '- rolearn: arn:aws:iam::111122223333:role/Odd\n  username: odd\n  groups: [y]\n';
    kube.put(AWS_AUTH_PATH, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: odd } });
    await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);
    const mapRoles = kube.get(AWS_AUTH_PATH).data.mapRoles;
    expect(mapRoles.startsWith(odd)).toBe(true);
    expect(awsAuthOf(kube).mapRoles.map((e: any) => e.rolearn)).toEqual(['arn:aws:iam::111122223333:role/Odd', ADMIN.rolearn]);
  });

  test('a create that fails after its write landed takes its entries back (no Delete follows a failed create)', async () => {
    seedAwsAuth(kube);
    let failed = false;
    kube.hooks.failAfterWrite = method => !failed && method === 'PUT' && (failed = true);
    // (one attempt: a 500 is otherwise re-sent, and the re-sent write finds its own)
    await expect(dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), { ...FAST, attempts: 1 })).rejects.toThrow(/answered 500/);
    const got = awsAuthOf(kube);
    expect(got.mapRoles).toEqual(FOREIGN_ROLES);
    expect(Object.keys(got.annotations)).toEqual([]);
  });

  test('an ARN another stack owns is refused, and nothing is written', async () => {
    await dispatch(awsAuthEvent('Create', [DEV]), api(kube), FAST);
    const before = JSON.stringify(kube.get(AWS_AUTH_PATH));
    const writes = kube.writes().length;

    await expect(dispatch(awsAuthEvent('Create', [{ ...DEV, groups: ['other'] }], [], { StackId: STACK_B }), api(kube), FAST))
      .rejects.toThrow(/arn:aws:iam::111122223333:role\/Dev is already granted in aws-auth by AwsAuth of stack .*stack\/A\/.*Grant it in one stack only/);
    expect(JSON.stringify(kube.get(AWS_AUTH_PATH))).toEqual(before);
    expect(kube.writes().length).toBe(writes);
  });

  test.each([
    ['a different entry for the same ARN (another case)', [{ ...DEV, rolearn: DEV.rolearn.toUpperCase().replace('ARN:AWS:IAM', 'arn:aws:iam'), groups: ['hand-made'] }], /aws-auth already maps .*did not write that entry/, undefined],
    ['two foreign entries for one of its ARNs', [DEV, { ...DEV, groups: ['yy'] }], /aws-auth has more than one entry that matches arn:aws:iam::111122223333:role\/Dev .*mapRoles item 3 .*mapRoles item 4 /, undefined],
    ['a mapUsers entry for one of its role ARNs', [], /more than one entry that matches arn:aws:iam::111122223333:role\/Dev .*mapUsers item 2/, { userarn: DEV.rolearn, username: 'odd', groups: [] }],
  ])('fails safe on %s: error, no write', async (_what, extra, message, extraUser: object | undefined) => {
    // GIVEN
    seedAwsAuth(kube, extra);
    if (extraUser) {
      const cm = kube.get(AWS_AUTH_PATH);
      kube.put(AWS_AUTH_PATH, { ...cm, data: { ...cm.data, mapUsers: cm.data.mapUsers + YAML.stringify([extraUser]) } });
      kube.log.length = 0;
    }
    const before = JSON.stringify(kube.get(AWS_AUTH_PATH));

    // WHEN / THEN
    await expect(dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST)).rejects.toThrow(message);
    await expect(dispatch(awsAuthEvent('Create', [ADMIN, DEV]), api(kube), FAST)).rejects.toBeInstanceOf(FailSafeError);
    expect(JSON.stringify(kube.get(AWS_AUTH_PATH))).toEqual(before);
    expect(kube.writes()).toEqual([]);
  });

  // aws-iam-authenticator v0.7.18 compares rolearn literally (pkg/config/mapper.go
  // RoleMapping.Matches) and builds an sso mapping's pattern with an empty partition when it
  // names one (SSOArnLike): such entries match none of the stack's roles, so they block nothing.
  test.each([
    ['a rolearn with "*" (literal, not a wildcard)', { rolearn: 'arn:aws:iam::111122223333:role/*', username: 'wild', groups: ['yy'] }],
    ['a rolearn with "?"', { rolearn: 'arn:aws:iam::111122223333:role/De?', username: 'wild', groups: ['yy'] }],
    ['an sso mapping that names its partition',
      { sso: { permissionSetName: 'Dev', accountID: '111122223333', partition: 'aws' }, username: 'sso', groups: ['yy'] }],
  ])('%s matches no role of the stack: the grant is written, the entry left as it was', async (_what, entry) => {
    // GIVEN
    seedAwsAuth(kube, [entry]);
    const ssoDev = { rolearn: 'arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_0123456789abcdef', username: 'sso:{{SessionName}}', groups: ['g'] };
    // WHEN
    await dispatch(awsAuthEvent('Create', [ADMIN, DEV, ssoDev]), api(kube), FAST);
    // THEN
    const { mapRoles } = awsAuthOf(kube);
    expect(mapRoles).toEqual(expect.arrayContaining([
      entry, expect.objectContaining({ rolearn: DEV.rolearn }), expect.objectContaining({ rolearn: ssoDev.rolearn }),
    ]));
  });

  test.each([
    ['unparseable YAML', '- rolearn: arn:aws:iam::1:role/x\n  groups: [a, b\n'],
    ['a mapping instead of a list', 'rolearn: arn:aws:iam::1:role/x\n'],
    ['a DEL character (go-yaml: control characters are not allowed)', '- rolearn: arn:aws:iam::1:role/x\n  username: "x\x7f"\n'],
    ['an unquoted .inf (sigs.k8s.io/yaml: no JSON form)', '- rolearn: arn:aws:iam::1:role/x\n  username: .inf\n'],
  ])('malformed existing mapRoles (%s): fails with a clear message and writes nothing', async (_what, mapRoles) => {
    // GIVEN
    kube.put(AWS_AUTH_PATH, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles } });

    // WHEN / THEN
    await expect(dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST)).rejects.toThrow(/aws-auth mapRoles is .*aws-iam-authenticator (may )?ignores? all of it.*Nothing was written/);
    expect(kube.writes()).toEqual([]);
    expect(kube.get(AWS_AUTH_PATH).data.mapRoles).toBe(mapRoles);
  });

  test('20 concurrent writers with distinct entries: all present at the end, conflicts retried', async () => {
    // GIVEN
    seedAwsAuth(kube);
    kube.latencyMs = 5;
    const roles = Array.from({ length: 20 }, (_, i) => ({ rolearn: `arn:aws:iam::111122223333:role/Team${i}`, username: `team${i}`, groups: [`g${i}`] }));

    // WHEN
    // (20 stacks: distinct names, as live stacks of one account and region have)
    await Promise.all(roles.map((r, i) => dispatch(awsAuthEvent('Create', [r], [], { StackId: STACK_A.replace('stack/A/', `stack/A${i}/`) }), api(kube), FAST)));

    // THEN
    const got = awsAuthOf(kube);
    expect(got.mapRoles.slice(0, 2)).toEqual(FOREIGN_ROLES);
    const byArn = (a: { rolearn: string }, b: { rolearn: string }) => a.rolearn.localeCompare(b.rolearn);
    expect(got.mapRoles.slice(2).sort(byArn)).toEqual(roles.sort(byArn));
    expect(Object.keys(got.annotations).length).toBe(20);
    expect(kube.log.filter(l => l.status === 409).length).toBeGreaterThan(0); // the race really happened
  });

  test('a racing creation of the ConfigMap (EKS adds a node group meanwhile) is merged, not lost', async () => {
    // GIVEN: between our GET (404) and our POST, EKS creates aws-auth with the node role
    let raced = false;
    kube.hooks.beforeWrite = (method) => {
      if (method === 'POST' && !raced) {
        raced = true;
        kube.put(AWS_AUTH_PATH, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: YAML.stringify([NODE]) } });
      }
    };

    // WHEN
    await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);

    // THEN
    expect(awsAuthOf(kube).mapRoles).toEqual([NODE, ADMIN]);
    expect(kube.log.map(l => `${l.method} ${l.status}`)).toEqual(['GET 404', 'POST 409', 'GET 200', 'PUT 200']);
  });

  test('a write that conflicts (someone edited aws-auth meanwhile) re-reads and keeps their edit', async () => {
    seedAwsAuth(kube);
    let raced = false;
    kube.hooks.beforeWrite = (method) => {
      if (method === 'PUT' && !raced) {
        raced = true;
        const cm = kube.get(AWS_AUTH_PATH);
        kube.put(AWS_AUTH_PATH, { ...cm, data: { ...cm.data, mapUsers: cm.data.mapUsers + '- userarn: arn:aws:iam::111122223333:user/carol\n  username: carol\n  groups: [ops]\n' } });
      }
    };
    await dispatch(awsAuthEvent('Create', [ADMIN]), api(kube), FAST);
    expect(awsAuthOf(kube).mapUsers.map(u => u.username)).toEqual(['bob', 'carol']);
    expect(awsAuthOf(kube).mapRoles).toEqual([...FOREIGN_ROLES, ADMIN]);
  });
});

const NS = 'team-a';
function binding(name: string, group: string, labels: Record<string, string> = { 'app.kubernetes.io/managed-by': 'cdk-eks-access' }) {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: NS, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
  };
}
const bindingPath = (name: string) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/${encodeURIComponent(name)}`;

/**
 * A create of RBAC chunk `logicalId` whose first write landed, whose answer was lost, and whose
 * own cleanup could not reach the API (the connection drops after two requests).
 */
async function lostRbacCreate(logicalId: string, objects: any[], context: DispatchContext = {}) {
  let requests = 0;
  const real = api(kube);
  const flaky = { request: async (m: any, p: string, b?: unknown) => { if (++requests > 2) throw new Error('socket hang up'); return real.request(m, p, b); } };
  kube.hooks.failAfterWrite = () => true;
  const create = event(RBAC_RESOURCE_TYPE, 'Create', { Objects: objects }, { LogicalResourceId: logicalId });
  await expect(dispatch(create, flaky, { ...FAST, attempts: 1 }, context)).rejects.toThrow();
  kube.hooks.failAfterWrite = undefined;
}

describe('RBAC objects and namespaces', () => {
  const EDIT = binding('cdk-eks-access:team-a:edit', 'cdk-eks-access:team-a:edit');
  const VIEW = binding('cdk-eks-access:team-a:view', 'cdk-eks-access:team-a:view');

  async function createNamespace() {
    await dispatch(event(NAMESPACES_RESOURCE_TYPE, 'Create', { Namespaces: [NS] }, { LogicalResourceId: 'Namespaces' }), api(kube), FAST);
  }

  test('a revoked grant\'s RoleBinding is deleted; a foreign one with the same name prefix stays', async () => {
    // GIVEN
    await createNamespace();
    const foreign = binding('cdk-eks-access:team-a:edit-by-hand', 'someone', {});
    kube.put(bindingPath(foreign.metadata.name), foreign);
    const { PhysicalResourceId } = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT, VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
    const annotations = kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations;
    expect(Object.keys(annotations)).toEqual([ownerKey({ id: PhysicalResourceId, stack: STACK_A, logicalId: 'Rbac' })]);
    // the owner, and a digest of what it wrote (for a later sweep of a stale claim)
    expect(JSON.parse(Object.values(annotations)[0] as string)).toEqual({
      stack: STACK_A,
      logicalId: 'Rbac',
      id: `rbac.authorization.k8s.io/v1/RoleBinding/team-a/${EDIT.metadata.name}`,
      physicalId: PhysicalResourceId,
      wrote: expect.stringMatching(/^[0-9a-f]{16}$/),
      at: expect.any(Number),
    });

    // WHEN: the edit grant is revoked
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [VIEW] }, {
      LogicalResourceId: 'Rbac', PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [EDIT, VIEW] },
    }), api(kube), FAST);

    // THEN
    expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
    expect(kube.get(bindingPath(VIEW.metadata.name))).toBeDefined();
    expect(kube.get(bindingPath(foreign.metadata.name)).subjects[0].name).toBe('someone');
  });

  test('an object that moves to another resource (chunk) is kept; the old owner only lets go', async () => {
    await createNamespace();
    const a = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Chunk0' }), api(kube), FAST);
    const b = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Chunk1' }), api(kube), FAST);
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [EDIT] }, { LogicalResourceId: 'Chunk0', PhysicalResourceId: a.PhysicalResourceId }), api(kube), FAST);
    expect(Object.keys(kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations)).toEqual([ownerKey({ id: b.PhysicalResourceId, stack: STACK_A, logicalId: 'Chunk1' })]);
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [EDIT] }, { LogicalResourceId: 'Chunk1', PhysicalResourceId: b.PhysicalResourceId }), api(kube), FAST);
    expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
  });

  test.each([
    ['other subjects', (o: any) => ({ ...o, subjects: [{ ...o.subjects[0], name: 'other-group' }] })],
    ['another roleRef (immutable: the binding is replaced both ways)', (o: any) => ({ ...o, roleRef: { ...o.roleRef, name: 'view' } })],
  ])('the rollback of a move between chunks with %s puts back the old chunk\'s content (review M3; failed before)', async (_what, change) => {
    // GIVEN chunk Rbac0 holds the binding
    await createNamespace();
    const a = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac0' }), api(kube), FAST);

    // WHEN an update moves it, changed, to a new chunk (Rbac0 goes only in the cleanup after a
    // successful update), a later resource fails, and the rollback's cleanup deletes the new chunk
    const moved = change(EDIT);
    const b = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [moved] }, { LogicalResourceId: 'RbacChunk0' }), api(kube), FAST);
    expect(kube.get(bindingPath(EDIT.metadata.name)).roleRef).toEqual(moved.roleRef);
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [moved] }, { LogicalResourceId: 'RbacChunk0', PhysicalResourceId: b.PhysicalResourceId }),
      api(kube), FAST, { stackStatus: async () => 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' });

    // THEN the binding is Rbac0's again, as Rbac0 wrote it
    const live = kube.get(bindingPath(EDIT.metadata.name));
    expect({ roleRef: live.roleRef, subjects: live.subjects }).toEqual({ roleRef: EDIT.roleRef, subjects: EDIT.subjects });
    expect(Object.keys(live.metadata.annotations)).toEqual([ownerKey({ id: a.PhysicalResourceId, stack: STACK_A, logicalId: 'Rbac0' })]);
  });

  test('content put back on a rollback is not a stale owner\'s: a move between chunks without a change keeps the content', async () => {
    // GIVEN Rbac0 wrote the binding over Rbac1's content, then Rbac1 let go
    await createNamespace();
    const other = { ...EDIT, subjects: [{ ...EDIT.subjects[0], name: 'other-group' }] };
    const one = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [other] }, { LogicalResourceId: 'Rbac1' }), api(kube), FAST);
    const zero = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac0' }), api(kube), FAST);
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [other] }, { LogicalResourceId: 'Rbac1', PhysicalResourceId: one.PhysicalResourceId }), api(kube), FAST);

    // WHEN it moves unchanged to Rbac2 and Rbac0 lets go
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac2' }), api(kube), FAST);
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [] }, {
      LogicalResourceId: 'Rbac0', PhysicalResourceId: zero.PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [EDIT] },
    }), api(kube), FAST);

    // THEN it keeps the content both wrote, not Rbac1's long gone one
    expect(kube.get(bindingPath(EDIT.metadata.name)).subjects).toEqual(EDIT.subjects);
  });

  test('an object deleted between its read and its write (e.g. by another chunk\'s sweep) is read again and created, not a failed deploy', async () => {
    // the API server answers such a PUT 409 (its uid is a precondition; the fake does the same); a 404 is read again too
    await createNamespace();
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac0' }), api(kube), FAST);
    let deleted = false;
    kube.hooks.beforeWrite = (method, path) => {
      if (method === 'PUT' && path === bindingPath(EDIT.metadata.name) && !deleted) {
        deleted = true;
        kube.store.delete(path);
      }
    };
    const one = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac1' }), api(kube), FAST);
    kube.hooks.beforeWrite = undefined;
    expect(deleted).toBe(true);
    expect(Object.keys(kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations)).toEqual([ownerKey({ id: one.PhysicalResourceId, stack: STACK_A, logicalId: 'Rbac1' })]);
  });

  test('objects an update leaves as they are are not written, however much later it runs (the claim keeps when it was first written)', async () => {
    await createNamespace();
    const t0 = Date.now();
    const { PhysicalResourceId } = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST, { now: () => t0 });
    const update = async (from: any[], to: any[], at: number) => {
      const before = kube.writes().length;
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: to }, {
        LogicalResourceId: 'Rbac', PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: from },
      }), api(kube), FAST, { now: () => at });
      return kube.writes().slice(before).filter(w => w.path.includes(encodeURIComponent(EDIT.metadata.name)));
    };
    expect(await update([EDIT], [EDIT, VIEW], t0 + 3_600_000)).toEqual([]);
    expect(await update([EDIT, VIEW], [EDIT], t0 + 7_200_000)).toEqual([]);
    expect(JSON.parse(Object.values<string>(kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations)[0]).at).toBe(t0);
  });

  test('a revocation does not put back content that an owner that stays now declares (found with the sweep; failed before)', async () => {
    // GIVEN Rbac0 wrote the binding over Rbac1's content; Rbac1 then declares Rbac0's content (no write: it is there)
    await createNamespace();
    const other = { ...EDIT, subjects: [{ ...EDIT.subjects[0], name: 'other-group' }] };
    const one = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [other] }, { LogicalResourceId: 'Rbac1' }), api(kube), FAST);
    const zero = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac0' }), api(kube), FAST);
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [EDIT] }, {
      LogicalResourceId: 'Rbac1', PhysicalResourceId: one.PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [other] },
    }), api(kube), FAST);

    // WHEN Rbac0 lets go
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [] }, {
      LogicalResourceId: 'Rbac0', PhysicalResourceId: zero.PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [EDIT] },
    }), api(kube), FAST);

    // THEN the binding is as Rbac1 declares it now, not as Rbac1 once wrote it
    expect(kube.get(bindingPath(EDIT.metadata.name)).subjects).toEqual(EDIT.subjects);
  });

  test.each([
    ['the cleanup of a rollback', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', true],
    ['a delete whose kind is unknown', undefined, true],
    ['a real stack delete', 'DELETE_IN_PROGRESS', false],
  ])('case 2: a binding the first release applied (label, no owner) survives %s', async (_what, status, survives) => {
    // GIVEN the first release's binding, with other subjects than this version's
    await createNamespace();
    const first = { ...EDIT, subjects: [{ kind: 'Group', name: 'old-group', apiGroup: 'rbac.authorization.k8s.io' }], metadata: { ...EDIT.metadata, labels: { 'app.kubernetes.io/managed-by': 'cdk-eks-access' } } };
    kube.put(bindingPath(EDIT.metadata.name), first);

    // WHEN the upgrade creates the chunk holding it, and the resource is then deleted
    const { PhysicalResourceId } = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
    expect(kube.get(bindingPath(EDIT.metadata.name)).subjects).toEqual(EDIT.subjects);
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac', PhysicalResourceId }), api(kube), FAST,
      status ? { stackStatus: async () => status } : {});

    // THEN
    const live = kube.get(bindingPath(EDIT.metadata.name));
    if (survives) {
      expect(live.subjects).toEqual(first.subjects);
      expect(Object.keys(live.metadata.annotations ?? {})).toEqual([]);
    } else {
      expect(live).toBeUndefined();
    }
  });

  test('case 3: an RBAC create whose answer was lost and whose cleanup failed leaves no second owner behind', async () => {
    // GIVEN
    await createNamespace();
    await lostRbacCreate('Rbac', [EDIT]);
    expect(kube.get(bindingPath(EDIT.metadata.name))).toBeDefined();

    // WHEN the next deploy creates it again, then an update revokes it
    const again = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT, VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [VIEW] }, {
      LogicalResourceId: 'Rbac', PhysicalResourceId: again.PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [EDIT, VIEW] },
    }), api(kube), FAST);

    // THEN
    expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
  });

  describe('a stale owner under a logical id the stack no longer has (README, "The reconciler", known gaps)', () => {
    /** A create of chunk RbacStale whose PUT landed, whose answer was lost and whose own cleanup could not reach the API. */
    async function lostCreate() {
      await lostRbacCreate('RbacStale', [EDIT]);
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeDefined();
    }

    /** GIVEN the stale claim, then chunk Rbac (CloudFormation's) holding the binding; WHEN Rbac revokes it. */
    async function revokeWith(context: DispatchContext, log: string[] = []) {
      await createNamespace();
      await lostCreate();
      const rbac = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT, VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
      const real = api(kube);
      const logged = { request: async (m: any, p: string, b?: unknown) => { log.push(`${m} ${p}`); return real.request(m, p, b); } };
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [VIEW] }, {
        LogicalResourceId: 'Rbac', PhysicalResourceId: rbac.PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [EDIT, VIEW] },
      }), logged, FAST, { now: later, ...context }); // old enough, unless the case says otherwise: the cases judge the listing
    }
    const resource = (logicalId: string, status = 'UPDATE_COMPLETE', type = RBAC_RESOURCE_TYPE) => ({ logicalId, type, status });
    /** The handler's clock once the stale claim is old enough to be judged gone (GONE_CLAIM_MIN_AGE_MS). */
    const later = () => Date.now() + GONE_CLAIM_MIN_AGE_MS;
    const staleKey = ownerKey({ id: 'any', stack: STACK_A, logicalId: 'RbacStale' });

    test('is released when CloudFormation does not list its logical id: the revoked binding goes (failed before)', async () => {
      const log: string[] = [];
      await revokeWith({
        now: later,
        stackResources: async () => { log.push('list'); return [resource('AwsAuth', 'UPDATE_COMPLETE', AWS_AUTH_RESOURCE_TYPE), resource('Rbac', 'UPDATE_IN_PROGRESS')]; },
      }, log);
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
      expect(kube.get(bindingPath(VIEW.metadata.name))).toBeDefined();
      // listed after the binding was read (a claim read before a listing belongs to a resource that listing shows), once
      const read = log.indexOf(`GET ${bindingPath(EDIT.metadata.name)}`);
      expect(read).toBeGreaterThanOrEqual(0);
      expect(log.indexOf('list')).toBeGreaterThan(read);
      expect(log.filter(l => l === 'list')).toHaveLength(1);
    });

    test.each([
      ['the stack\'s resources cannot be read', { stackResources: async () => undefined }],
      ['reading them throws', { stackResources: async () => { throw new Error('AccessDenied'); } }],
      ['there is no lister (the test seam, or a handler of an earlier release)', {}],
      ['CloudFormation lists the logical id (being created)', { stackResources: async () => [resource('Rbac'), resource('RbacStale', 'CREATE_IN_PROGRESS')] }],
      ['CloudFormation lists the logical id (its delete failed)', { stackResources: async () => [resource('Rbac'), resource('RbacStale', 'DELETE_FAILED')] }],
      ['CloudFormation lists the logical id as another type', { stackResources: async () => [resource('Rbac'), resource('RbacStale', 'CREATE_COMPLETE', 'AWS::SNS::Topic')] }],
    ])('is kept when %s: the binding stays, as before', async (_what, context: DispatchContext) => {
      await revokeWith(context);
      const live = kube.get(bindingPath(EDIT.metadata.name));
      expect(live).toBeDefined();
      expect(Object.keys(live.metadata.annotations)).toEqual([staleKey]);
    });

    test('the stack\'s resources are not read when no claim of another logical id of the stack is seen', async () => {
      await createNamespace();
      const list = jest.fn(async () => [resource('Rbac')]);
      const rbac = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT, VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST, { stackResources: list });
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [VIEW] }, {
        LogicalResourceId: 'Rbac', PhysicalResourceId: rbac.PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [EDIT, VIEW] },
      }), api(kube), FAST, { stackResources: list });
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
      expect(list).not.toHaveBeenCalled();
    });

    test('another stack\'s claim is never released by this stack\'s list', async () => {
      await createNamespace();
      const other = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'RbacStale', StackId: STACK_B }), api(kube), FAST);
      const rbac = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac', PhysicalResourceId: rbac.PhysicalResourceId }), api(kube), FAST,
        { stackStatus: async () => 'DELETE_IN_PROGRESS', stackResources: async () => [resource('Rbac', 'DELETE_IN_PROGRESS')] });
      expect(Object.keys(kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations)).toEqual([ownerKey({ id: other.PhysicalResourceId, stack: STACK_B, logicalId: 'RbacStale' })]);
    });

    test('the next create of the stale logical id without the object releases its claim: the binding goes (lifecycle seed 42; failed before)', async () => {
      await createNamespace();
      await lostCreate();
      // no stack resources needed: a create of a logical id meets only claims of instances CloudFormation never had
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'RbacStale' }), api(kube), FAST);
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
      expect(kube.get(bindingPath(VIEW.metadata.name))).toBeDefined();
    });

    test('any RBAC event of the stack releases the claim when CloudFormation does not list its logical id, on objects it does not hold (lifecycle seed 123; failed before)', async () => {
      await createNamespace();
      await lostCreate();
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST,
        { now: later, stackResources: async () => [resource('Rbac', 'CREATE_IN_PROGRESS')] });
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
    });

    test('a claim of a logical id CloudFormation does not list is kept while younger than 15 minutes (a create just started, if the list were late)', async () => {
      await createNamespace();
      await lostCreate();
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST,
        { now: () => Date.now() + GONE_CLAIM_MIN_AGE_MS - 60_000, stackResources: async () => [resource('Rbac', 'CREATE_IN_PROGRESS')] });
      expect(Object.keys(kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations)).toEqual([staleKey]);
    });

    test.each([
      ['CloudFormation lists the logical id', { stackResources: async () => [resource('Rbac', 'CREATE_IN_PROGRESS'), resource('RbacStale', 'CREATE_IN_PROGRESS')] }],
      ['the stack\'s resources are unknown', {}],
    ])('a sweep keeps the claim of another logical id when %s', async (_what, context: DispatchContext) => {
      await createNamespace();
      await lostCreate();
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST, { now: later, ...context });
      expect(Object.keys(kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations)).toEqual([staleKey]);
    });

    test('a sweep undoes a stale claim on an object the first release applied: kept, with its content put back', async () => {
      await createNamespace();
      const first = { ...EDIT, subjects: [{ kind: 'Group', name: 'old-group', apiGroup: 'rbac.authorization.k8s.io' }] };
      kube.put(bindingPath(EDIT.metadata.name), first);
      await lostCreate();
      expect(kube.get(bindingPath(EDIT.metadata.name)).subjects).toEqual(EDIT.subjects);
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'RbacStale' }), api(kube), FAST);
      const live = kube.get(bindingPath(EDIT.metadata.name));
      expect(live.subjects).toEqual(first.subjects);
      expect(live.metadata.annotations ?? {}).toEqual({});
    });

    test('a sweep whose write conflicts reads the object again and decides again (review finding 2; failed before)', async () => {
      await createNamespace();
      await lostCreate();
      let touched = 0;
      kube.hooks.beforeWrite = (method, path) => {
        if (method === 'DELETE' && path === bindingPath(EDIT.metadata.name) && touched++ === 0) touch(kube, path);
      };
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'RbacStale' }), api(kube), FAST);
      kube.hooks.beforeWrite = undefined;
      expect(touched).toBe(2);
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
      expect(kube.get(bindingPath(VIEW.metadata.name))).toBeDefined();
    });

    test('a live claim added while the sweep decides keeps the object: the stale claim alone goes', async () => {
      await createNamespace();
      await lostCreate();
      const liveKey = ownerKey({ id: 'x', stack: STACK_A, logicalId: 'Rbac9' });
      let added = false;
      kube.hooks.beforeWrite = (method, path) => {
        if (method === 'DELETE' && path === bindingPath(EDIT.metadata.name) && !added) {
          added = true;
          const o = kube.get(path);
          kube.put(path, { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [liveKey]: JSON.stringify({ stack: STACK_A, logicalId: 'Rbac9' }) } } });
        }
      };
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'RbacStale' }), api(kube), FAST);
      kube.hooks.beforeWrite = undefined;
      expect(Object.keys(kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations)).toEqual([liveKey]);
    });

    test('several stale claims on one object are released one at a time, each putting back what it replaced (review finding 6; failed before)', async () => {
      // GIVEN RbacL wrote the binding with g0, then two lost creates wrote g1 and g2 over it
      await createNamespace();
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [withGroup('g0')] }, { LogicalResourceId: 'RbacL' }), api(kube), FAST);
      await lostRbacCreate('RbacG1', [withGroup('g1')]);
      await lostRbacCreate('RbacG2', [withGroup('g2')]);
      expect(kube.get(bindingPath(EDIT.metadata.name)).subjects[0].name).toBe('g2');

      // WHEN an RBAC event of the stack sweeps, with RbacL the only chunk listed
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST,
        { now: later, stackResources: async () => [resource('RbacL'), resource('Rbac', 'CREATE_IN_PROGRESS')] });

      // THEN the binding is RbacL's again, as RbacL wrote it
      const live = kube.get(bindingPath(EDIT.metadata.name));
      expect(live.subjects[0].name).toBe('g0');
      expect(Object.keys(live.metadata.annotations)).toEqual([ownerKey({ id: 'x', stack: STACK_A, logicalId: 'RbacL' })]);
    });

    const lostCreateOf = (logicalId: string, obj: any, context: DispatchContext = {}) => lostRbacCreate(logicalId, [obj], context);
    const withGroup = (g: string) => ({ ...EDIT, subjects: [{ ...EDIT.subjects[0], name: g }] });
    const ownersOf = (name: string) => Object.values<string>(kube.get(bindingPath(name)).metadata.annotations ?? {})
      .map(v => JSON.parse(v).logicalId);

    test('two stale claims that wrote the same content: the content goes back to the live owner\'s (second review, finding 2; failed before)', async () => {
      await createNamespace();
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [withGroup('g0')] }, { LogicalResourceId: 'RbacL' }), api(kube), FAST);
      await lostCreateOf('RbacG1', withGroup('g1'));
      await lostCreateOf('RbacG2', withGroup('g1'));
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST,
        { now: later, stackResources: async () => [resource('RbacL'), resource('Rbac', 'CREATE_IN_PROGRESS')] });
      expect(kube.get(bindingPath(EDIT.metadata.name)).subjects[0].name).toBe('g0');
      expect(ownersOf(EDIT.metadata.name)).toEqual(['RbacL']);
    });

    test('the rollback\'s delete of a chunk that moved an object over a stale claim puts back the live owner\'s content (second review, finding 1; failed before)', async () => {
      // GIVEN RbacL wrote g0, a lost create of RbacG1 wrote g1, then RbacM (a move from RbacL) wrote g2
      await createNamespace();
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [withGroup('g0')] }, { LogicalResourceId: 'RbacL' }), api(kube), FAST);
      await lostCreateOf('RbacG1', withGroup('g1'));
      const m = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [withGroup('g2')] }, { LogicalResourceId: 'RbacM' }), api(kube), FAST);

      // WHEN the deploy fails before RbacL is updated, and the rollback's cleanup deletes RbacM
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [withGroup('g2')] }, { LogicalResourceId: 'RbacM', PhysicalResourceId: m.PhysicalResourceId }),
        api(kube), FAST, { now: later, stackStatus: async () => 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', stackResources: async () => [resource('RbacL'), resource('RbacM', 'DELETE_IN_PROGRESS')] });

      // THEN the binding is RbacL's, as RbacL wrote it
      expect(kube.get(bindingPath(EDIT.metadata.name)).subjects[0].name).toBe('g0');
      expect(ownersOf(EDIT.metadata.name)).toEqual(['RbacL']);
    });

    test('a create of a logical id that had a stale claim makes its claim new: a sibling whose list is late to show it keeps it (second review, finding 4; failed before)', async () => {
      const t0 = Date.now();
      await createNamespace();
      await lostCreateOf('RbacX', EDIT, { now: () => t0 });
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'RbacX' }), api(kube), FAST, { now: () => t0 + 3_600_000 });
      expect(JSON.parse(Object.values<string>(kube.get(bindingPath(EDIT.metadata.name)).metadata.annotations)[0]).at).toBe(t0 + 3_600_000);
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST,
        { now: () => t0 + 3_660_000, stackResources: async () => [resource('Rbac', 'CREATE_IN_PROGRESS')] });
      expect(ownersOf(EDIT.metadata.name)).toEqual(['RbacX']);
    });

    test('a stack created again under the same name never sweeps the earlier stack\'s objects (retained grants stay; review finding 1; failed before)', async () => {
      // GIVEN the earlier stack A left two chunks' objects (RETAIN)
      await createNamespace();
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac0' }), api(kube), FAST);
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac1' }), api(kube), FAST);

      // WHEN a new stack A creates Rbac0 with EDIT only
      const again = STACK_A.replace(/0001$/, '0009');
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac0', StackId: again }), api(kube), FAST,
        { now: later, stackResources: async () => [resource('Rbac0', 'CREATE_IN_PROGRESS')] });

      // THEN the earlier stack's VIEW stays, with its claim
      expect(Object.keys(kube.get(bindingPath(VIEW.metadata.name)).metadata.annotations)).toEqual([ownerKey({ id: 'x', stack: STACK_A, logicalId: 'Rbac1' })]);
    });

    test('a chunk that leaves the template under RETAIN (no Delete) has its objects released by the next RBAC event, as a revocation (review finding 4; decided)', async () => {
      await createNamespace();
      const zero = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac0' }), api(kube), FAST);
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'Rbac1' }), api(kube), FAST);
      const other = binding('cdk-eks-access:team-a:admin', 'cdk-eks-access:team-a:admin');
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [EDIT, other] }, {
        LogicalResourceId: 'Rbac0', PhysicalResourceId: zero.PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [EDIT] },
      }), api(kube), FAST, { now: later, stackResources: async () => [resource('Rbac0', 'UPDATE_IN_PROGRESS')] });
      expect(kube.get(bindingPath(VIEW.metadata.name))).toBeUndefined();
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeDefined();
    });

    test('a sweep that cannot list the library\'s objects does not fail the event', async () => {
      await createNamespace();
      await lostCreate();
      const real = api(kube);
      const noList = {
        request: async (m: any, p: string, b?: unknown) => p.includes('?labelSelector=')
          ? { status: 403, body: { kind: 'Status', code: 403, message: 'forbidden' } } : real.request(m, p, b),
      };
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [VIEW] }, { LogicalResourceId: 'RbacStale' }), noList, FAST);
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeDefined();
      expect(kube.get(bindingPath(VIEW.metadata.name))).toBeDefined();
    });

    test('the stack\'s delete takes the binding when the stale owner is not listed (failed before)', async () => {
      await createNamespace();
      await lostCreate();
      const rbac = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac' }), api(kube), FAST);
      await dispatch(event(RBAC_RESOURCE_TYPE, 'Delete', { Objects: [EDIT] }, { LogicalResourceId: 'Rbac', PhysicalResourceId: rbac.PhysicalResourceId }), api(kube), FAST,
        { now: later, stackStatus: async () => 'DELETE_IN_PROGRESS', stackResources: async () => [resource('Rbac', 'DELETE_IN_PROGRESS'), resource('AwsAuth', 'DELETE_COMPLETE')] });
      expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
    });
  });

  test('an existing object the library did not create is refused and left as it was', async () => {
    await createNamespace();
    const handMade = binding(EDIT.metadata.name, 'someone', {});
    kube.put(bindingPath(EDIT.metadata.name), handMade);
    await expect(dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }), api(kube), FAST))
      .rejects.toThrow(/RoleBinding team-a\/cdk-eks-access:team-a:edit already exists and was not created by cdk-eks-access/);
    expect(kube.get(bindingPath(EDIT.metadata.name)).subjects[0].name).toBe('someone');
  });

  test('a failed create releases what it applied (no orphans)', async () => {
    // GIVEN: the second object's namespace does not exist, so its creation fails
    await createNamespace();
    const elsewhere = { ...VIEW, metadata: { ...VIEW.metadata, namespace: 'missing' } };
    await expect(dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT, elsewhere] }), api(kube), FAST)).rejects.toThrow(/namespaces "missing" not found/);
    expect(kube.get(bindingPath(EDIT.metadata.name))).toBeUndefined();
  });

  test('a changed roleRef (immutable) replaces the binding', async () => {
    await createNamespace();
    const { PhysicalResourceId } = await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }), api(kube), FAST);
    const toView = { ...EDIT, roleRef: { ...EDIT.roleRef, name: 'view' } };
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Update', { Objects: [toView] }, { PhysicalResourceId, OldResourceProperties: { ...CONNECTION, Objects: [EDIT] } }), api(kube), FAST);
    expect(kube.get(bindingPath(EDIT.metadata.name)).roleRef.name).toBe('view');
  });

  test('a roleRef that only differs in key order is the same roleRef (the binding is not replaced)', async () => {
    await createNamespace();
    kube.put(bindingPath(EDIT.metadata.name), { ...EDIT, roleRef: { name: 'edit', kind: 'ClusterRole', apiGroup: 'rbac.authorization.k8s.io' } });
    await dispatch(event(RBAC_RESOURCE_TYPE, 'Create', { Objects: [EDIT] }), api(kube), FAST);
    expect(kube.writes().filter(w => w.method === 'DELETE')).toEqual([]);
  });

  test('a namespace is created when absent, left alone when present, and survives the stack\'s deletion', async () => {
    // GIVEN
    kube.put('/api/v1/namespaces/existing', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'existing', labels: { mine: 'yes' } } });
    const props = { Namespaces: [NS, 'existing'] };

    // WHEN
    const { PhysicalResourceId } = await dispatch(event(NAMESPACES_RESOURCE_TYPE, 'Create', props), api(kube), FAST);
    await dispatch(event(NAMESPACES_RESOURCE_TYPE, 'Update', { Namespaces: [] }, { PhysicalResourceId, OldResourceProperties: { ...CONNECTION, ...props } }), api(kube), FAST);
    await dispatch(event(NAMESPACES_RESOURCE_TYPE, 'Delete', props, { PhysicalResourceId }), api(kube), FAST);

    // THEN
    // (the API server labels every namespace with its name)
    expect(kube.get(`/api/v1/namespaces/${NS}`).metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'cdk-eks-access', 'kubernetes.io/metadata.name': NS });
    expect(kube.get('/api/v1/namespaces/existing').metadata.labels).toEqual({ 'mine': 'yes', 'kubernetes.io/metadata.name': 'existing' });
    expect(kube.writes().filter(w => w.method !== 'POST')).toEqual([]);
  });
});

describe('authentication', () => {
  test('requests without an EKS token are refused by the fake (the token check is real)', async () => {
    const bad = new HttpKubeApi({ endpoint: kube.endpoint, token: 'not-a-token' });
    expect((await bad.request('GET', AWS_AUTH_PATH)).status).toBe(401);
    expect((await api(kube).request('GET', AWS_AUTH_PATH)).status).toBe(404);
  });
});
