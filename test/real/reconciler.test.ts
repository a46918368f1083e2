import * as fc from 'fast-check';
import { awsAuthData, callers } from './aws-auth-documents';
import { AuthenticatorMapping, askAuthenticator, describeReal, droppedWhole, realKubeApi } from './components';
import { AWS_AUTH_PATH, FailSafeError } from '../../src/handlers/access-reconciler/aws-auth';
import { ParsedSection, SECTIONS, Section, itemMatches, readSection } from '../../src/handlers/access-reconciler/aws-auth-read';
import { dispatch } from '../../src/handlers/access-reconciler/index';
import { KubeApi } from '../../src/handlers/access-reconciler/kube';
import { FAST, awsAuthEvent } from '../handlers/events';

/**
 * The reconciler writing aws-auth into the real kube-apiserver, judged by aws-iam-authenticator's
 * own reader: what it writes means, to the authenticator, what the stack declares, and every
 * entry it did not write means what it meant before.
 *
 * aws-auth is one object per cluster: every test that writes it on the real API server is in
 * this file (jest runs one file's tests one at a time).
 */
const RUNS = Number(process.env.RECONCILER_DIFFERENTIAL_RUNS ?? 200);
const SEED = Number(process.env.RECONCILER_DIFFERENTIAL_SEED ?? Date.now() % 1_000_000);

interface Entry { rolearn?: string; userarn?: string; username: string; groups: string[] }

async function resetAwsAuth(api: KubeApi, data?: Record<string, string>): Promise<void> {
  await api.request('DELETE', AWS_AUTH_PATH);
  if (data) {
    const created = await api.request('POST', '/api/v1/namespaces/kube-system/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data });
    if (created.status !== 201) throw new Error(`creating aws-auth: ${created.status} ${JSON.stringify(created.body)}`);
  }
}

async function awsAuthData0(api: KubeApi): Promise<Record<string, string>> {
  const res = await api.request('GET', AWS_AUTH_PATH);
  return res.status === 200 ? res.body.data ?? {} : {};
}

const arnOf = (e: Entry) => (e.rolearn ?? e.userarn)!;
const declared = (e: Entry): AuthenticatorMapping => ({ from: e.rolearn ? 'mapRoles' : 'mapUsers', username: e.username, groups: e.groups });

describeReal('the reconciler on the real kube-apiserver, judged by aws-iam-authenticator v0.7.18', () => {
  let api: KubeApi;
  beforeAll(() => {
    api = realKubeApi();
  });
  afterAll(async () => {
    await resetAwsAuth(api);
  });

  test.each([
    ['DEL', '\x7f'], ['NEL', '\x85'], ['a C1 control', '\x9b'], ['U+2028', '\u2028'], ['U+2029', '\u2029'], ['a BOM', '\ufeff'],
    ['U+FFFE', '\ufffe'], ['U+FFFF', '\uffff'], ['a C0 control', '\x01'], ['a line feed', '\n'],
  ])('an entry holding %s (past synth) is written as an escape the authenticator decodes to the same value', async (_what, c) => {
    // GIVEN aws-auth with a node role
    await resetAwsAuth(api, { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:nodes]\n' });
    const entry = { rolearn: 'arn:aws:iam::111122223333:role/Dev', username: `dev:${c}`, groups: [`team${c}`] };
    // WHEN the reconciler writes an entry whose values hold the character
    await dispatch(awsAuthEvent('Create', [entry]), api, FAST);
    // THEN the real reader maps the role to exactly those values, and the node role still maps
    const data = await awsAuthData0(api);
    const answer = await askAuthenticator(data, ['arn:aws:sts::111122223333:assumed-role/Dev/s', 'arn:aws:iam::111122223333:role/Node']);
    expect(answer.sectionErrors).toEqual({});
    expect(answer.callers[0].mappings).toEqual([{ from: 'mapRoles', username: entry.username, groups: entry.groups }]);
    expect(answer.callers[1].mappings).toHaveLength(1);
  });

  test('an entry holding a lone surrogate is refused, naming the entry; aws-auth is left as it was', async () => {
    await resetAwsAuth(api, { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Node\n  username: node\n  groups: [system:nodes]\n' });
    const before = await awsAuthData0(api);
    const entry = { rolearn: 'arn:aws:iam::111122223333:role/Dev', username: 'dev:\ud800', groups: ['team'] };
    await expect(dispatch(awsAuthEvent('Create', [entry]), api, FAST)).rejects.toThrow(/aws-auth entry of arn:aws:iam::111122223333:role\/Dev holds a lone UTF-16 surrogate/);
    expect(await awsAuthData0(api)).toEqual(before);
  });

  // The paths of a section this library declines but the authenticator reads: a revoking
  // update, a rollback that changes nothing, and the stack's delete take effect in the real
  // authenticator (the same cases run on the fake in test/handlers/aws-auth-real-world.test.ts).
  test.each([
    ['an explicit tag', '- rolearn: arn:aws:iam::111122223333:role/Node\n  username: !!str system:node:{{EC2PrivateDNSName}}\n  groups: [system:nodes]\n'],
    ['a U+2028', '- rolearn: arn:aws:iam::111122223333:role/Node\n  username: "node\u2028"\n  groups: [system:nodes]\n'],
  ])('in a section with %s (read by the authenticator, declined by the library), revocations take effect', async (_what, foreign) => {
    const ops = { rolearn: 'arn:aws:iam::111122223333:role/Ops', username: 'ops', groups: ['system:masters'] };
    const dev = { rolearn: 'arn:aws:iam::111122223333:role/Dev', username: 'dev', groups: ['team'] };
    await resetAwsAuth(api);
    const { PhysicalResourceId } = await dispatch(awsAuthEvent('Create', [ops, dev]), api, FAST);
    // someone adds an entry the library cannot read exactly; the authenticator reads it
    const cm = (await api.request('GET', AWS_AUTH_PATH)).body;
    expect((await api.request('PUT', AWS_AUTH_PATH, { ...cm, data: { ...cm.data, mapRoles: cm.data.mapRoles + foreign } })).status).toBe(200);
    const who = async () => (await askAuthenticator(await awsAuthData0(api), ['arn:aws:sts::111122223333:assumed-role/Ops/s',
      'arn:aws:sts::111122223333:assumed-role/Dev/s', 'arn:aws:sts::111122223333:assumed-role/Node/i-1'])).callers.map(c => c.mappings.length);
    expect(await who()).toEqual([1, 1, 1]);
    const old = { OldResourceProperties: { ...awsAuthEvent('Create', [ops, dev]).ResourceProperties } };
    await dispatch(awsAuthEvent('Update', [ops], [], { PhysicalResourceId, ...old }), api, FAST, { stackStatus: async () => 'UPDATE_IN_PROGRESS' });
    expect(await who()).toEqual([1, 0, 1]);
    await dispatch(awsAuthEvent('Update', [ops], [], { PhysicalResourceId, ...old }), api, FAST, { stackStatus: async () => 'UPDATE_ROLLBACK_IN_PROGRESS' });
    expect(await who()).toEqual([1, 0, 1]);
    await dispatch(awsAuthEvent('Delete', [ops], [], { PhysicalResourceId }), api, FAST, { stackStatus: async () => 'DELETE_IN_PROGRESS' });
    expect(await who()).toEqual([0, 0, 1]);
    expect((await awsAuthData0(api)).mapRoles).toBe(foreign);
  });

  const stackEntry = (arn: string) => fc.record({
    username: fc.constantFrom('dev:{{SessionName}}', 'ops', 'é', 'x\x7f', 'a\x85b', 'yes', 'on', '0777', '~'),
    groups: fc.array(fc.constantFrom('system:masters', 'team-a', 'g\x9b', 'view'), { maxLength: 2 }),
  }).map(v => ({ ...(arn.includes(':user/') ? { userarn: arn } : { rolearn: arn }), ...v }) as Entry);
  const STACK_ARNS = ['arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/Dev', 'arn:aws:iam::111122223333:role/ci-deployer',
    'arn:aws:iam::111122223333:role/AWSReservedSSO_ViewOnly_0123456789abcdef', 'arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/bob'];
  const stackEntries = fc.subarray(STACK_ARNS, { minLength: 1 }).chain(arns => fc.tuple(...arns.map(stackEntry)));

  test(`${RUNS} generated aws-auth documents and grants, created, updated (one revoked, one changed) and deleted: the stack's principals map as declared, revoked ones as before the stack, everyone else as before (or a justified refusal)`, async () => {
    const asked = callers();
    const counts = { written: 0, refused: 0 };
    const run = await fc.check(fc.asyncProperty(awsAuthData, stackEntries, async (foreign, entries) => {
      await resetAwsAuth(api, foreign);
      const before = await awsAuthData0(api);
      const beforeAnswer = await askAuthenticator(before, asked);
      const mapRoles = entries.filter(e => e.rolearn);
      const mapUsers = entries.filter(e => e.userarn);
      let created: { PhysicalResourceId?: string };
      try {
        created = await dispatch(awsAuthEvent('Create', mapRoles, mapUsers), api, FAST);
      } catch (e) {
        if (!(e instanceof FailSafeError)) throw e;
        counts.refused++;
        // a refusal writes nothing, and rests on what the authenticator reads for one of the
        // stack's ARNs (a mapping already there), on a section it must write into that the
        // authenticator drops or this library declines, or on two entries for one ARN (one would
        // stay after a revocation): judged by the authenticator, not by the library's own reader
        expect(await awsAuthData0(api)).toEqual(before);
        const real = await askAuthenticator(before, entries.map(arnOf));
        const sections: Record<Section, ParsedSection> = { mapRoles: readSection('mapRoles', before.mapRoles), mapUsers: readSection('mapUsers', before.mapUsers) };
        const justified = entries.some((entry, i) => {
          const section: Section = entry.rolearn ? 'mapRoles' : 'mapUsers';
          if (droppedWhole(real.sectionErrors[section]) || sections[section].unsupported) return true;
          if (real.callers[i].mappings.length > 0 && JSON.stringify(real.callers[i].mappings) !== JSON.stringify([declared(entry)])) return true;
          return SECTIONS.flatMap(s => sections[s].items.filter(it => itemMatches(s, it, arnOf(entry)))).length > 1;
        });
        if (!justified) throw new Error(`refused without cause: ${(e as Error).message}`);
        return true;
      }
      counts.written++;
      const ours = entries.map(arnOf);
      const oursLower = new Set(ours.map(a => a.toLowerCase()));
      // what each of the stack's principals mapped to before the stack (an identical entry found there is adopted, and stays)
      const beforeOurs = await askAuthenticator(before, ours);
      /** After a step: the stack's principals map as `expected` says, everyone else as before the stack. */
      const check = async (step: string, expected: (i: number) => AuthenticatorMapping[]) => {
        const answer = await askAuthenticator(await awsAuthData0(api), [...ours, ...asked]);
        for (const [i, arn] of ours.entries()) expect([step, arn, answer.callers[i].mappings]).toEqual([step, arn, expected(i)]);
        for (const [i, c] of answer.callers.slice(ours.length).entries()) {
          if (c.canonical && oursLower.has(c.canonical)) continue;
          expect([step, c.caller, c.mappings]).toEqual([step, c.caller, beforeAnswer.callers[i].mappings]);
        }
      };
      await check('create', i => [declared(entries[i])]);

      // an update that revokes the first principal and changes the last one's username
      const kept = entries.slice(1).map((e, i, all) => (i === all.length - 1 ? { ...e, username: `${e.username}-changed` } : e));
      const update = awsAuthEvent('Update', kept.filter(e => e.rolearn), kept.filter(e => e.userarn), {
        PhysicalResourceId: created.PhysicalResourceId,
        OldResourceProperties: { ...awsAuthEvent('Create', mapRoles, mapUsers).ResourceProperties },
      });
      await dispatch(update, api, FAST);
      await check('update', i => (i === 0 ? beforeOurs.callers[0].mappings : [declared(kept[i - 1])]));

      // the stack's delete: every principal back to what it mapped to before the stack
      await dispatch(awsAuthEvent('Delete', kept.filter(e => e.rolearn), kept.filter(e => e.userarn), { PhysicalResourceId: created.PhysicalResourceId }), api, FAST,
        { stackStatus: async () => 'DELETE_IN_PROGRESS' });
      await check('delete', i => beforeOurs.callers[i].mappings);
      return true;
    }), { numRuns: RUNS, seed: SEED, endOnFailure: true });
    process.stdout.write(`reconciler differential (seed ${SEED}, ${RUNS} documents): ${JSON.stringify(counts)}\n`);
    if (run.failed) throw new Error(`seed ${SEED}: ${JSON.stringify(run.counterexample)}\n${run.errorInstance}`);
    expect(counts.written).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(0);
  });
});
