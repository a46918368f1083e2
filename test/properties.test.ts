import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as fc from 'fast-check';
import { AccessLevel, AccessPrincipal, GrantOptions } from '../src';
import { awsAuth, AwsAuthEntry, rbacObjects, testCluster, testStack } from './util';

/**
 * Property tests over random sets of grants: random principals of every kind, levels,
 * namespaces, usernames, order, and duplicates that differ only in case.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 25);

interface Spec {
  kind: 'role' | 'user' | 'sso';
  name: string;
  path: string;
  level: number;
  ns: string;
  username?: string;
  groups?: string[];
  caseFlip: boolean;
}

const NAMESPACES = ['team-a', 'team-b', 'apps', 'default'];
const RULES = [
  [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] }],
  [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] }],
];

const specArb: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom('role', 'user', 'sso'),
  name: fc.constantFrom('Alpha', 'beta', 'Gamma.Ops', 'delta_1', 'Eps+x'),
  path: fc.constantFrom('/', '/teams/', '/a/b/c/'),
  level: fc.integer({ min: 0, max: 6 }),
  ns: fc.constantFrom(...NAMESPACES),
  username: fc.option(fc.constantFrom('ops:{{SessionName}}', 'reader'), { nil: undefined }),
  groups: fc.option(fc.constantFrom(['platform:readers'], ['auditors', 'platform:readers']), { nil: undefined }),
  caseFlip: fc.boolean(),
});

function flip(s: string, on: boolean) {
  return on ? s.toUpperCase() : s;
}

function principalOf(s: Spec): AccessPrincipal {
  const name = flip(s.name, s.caseFlip);
  switch (s.kind) {
    case 'role': return AccessPrincipal.fromRoleArn(`arn:aws:iam::111122223333:role${s.path}${name}`);
    case 'user': return AccessPrincipal.fromUserArn(`arn:aws:iam::111122223333:user${s.path}${name}`);
    default: return AccessPrincipal.fromSsoPermissionSet(`arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/${s.path === '/' ? '' : 'eu-west-1/'}AWSReservedSSO_${name}_0123456789abcdef`);
  }
}

function levelOf(s: Spec): AccessLevel {
  switch (s.level) {
    case 0: return AccessLevel.clusterAdmin();
    case 1: return AccessLevel.clusterView();
    case 2: return AccessLevel.namespaceAdmin(s.ns);
    case 3: return AccessLevel.namespaceEdit(s.ns);
    case 4: return AccessLevel.namespaceView(s.ns);
    case 5: return AccessLevel.custom({ namespaceName: s.ns, rules: RULES[0] });
    default: return AccessLevel.custom({ rules: RULES[1] });
  }
}

/** The aws-auth identity of a spec (what must be unique, case-insensitively). */
function identity(s: Spec): string {
  const name = s.name.toLowerCase();
  if (s.kind === 'user') return `user${s.path}${name}`.toLowerCase();
  return s.kind === 'sso' ? `role/awsreservedsso_${name}_0123456789abcdef` : `role/${name}`;
}

/** Usernames are chosen per identity, so grants to one principal never conflict. */
function normalize(specs: Spec[]): Spec[] {
  const chosen = new Map<string, string | undefined>();
  return specs.map(s => {
    if (!chosen.has(identity(s))) chosen.set(identity(s), s.username);
    return { ...s, username: chosen.get(identity(s)) };
  });
}

function synth(specs: Spec[], extra?: (cluster: ReturnType<typeof testCluster>) => void) {
  const stack = testStack();
  const cluster = testCluster(stack);
  const nodes = cluster.cluster.addNodegroupCapacity('Nodes', { minSize: 1 });
  for (const s of specs) {
    const options: GrantOptions = { username: s.username, groups: s.groups };
    cluster.grant(principalOf(s), levelOf(s), options);
  }
  extra?.(cluster);
  const template = Template.fromStack(stack);
  return {
    template,
    stack,
    nodeRoleId: stack.getLogicalId(nodes.role.node.defaultChild as any),
    adminRoleId: stack.getLogicalId(cluster.adminRole.node.defaultChild as any),
  };
}

const arnOf = (e: AwsAuthEntry) => (e.rolearn ?? e.userarn)!;

describe('properties', () => {
  test('one aws-auth entry per principal (case-insensitive); role ARNs path-less; user paths kept', () => {
    fc.assert(fc.property(fc.array(specArb, { minLength: 1, maxLength: 12 }), raw => {
      const specs = normalize(raw);
      const { template } = synth(specs);
      const { mapRoles, mapUsers } = awsAuth(template);
      const arns = [...mapRoles, ...mapUsers].map(arnOf);
      expect(new Set(arns.map(a => a.toLowerCase())).size).toBe(arns.length);
      // literal and ${Ref}-rendered role ARNs have exactly one segment after role/ (the node role is a GetAtt of a path-less role)
      for (const e of mapRoles.filter(x => x.rolearn!.startsWith('arn:'))) expect(e.rolearn).toMatch(/:role\/[^/]+$/);
      const expected = new Set(specs.map(identity));
      const granted = [...mapRoles, ...mapUsers].map(arnOf).filter(a => a.startsWith('arn:aws:iam::111122223333:'))
        .map(a => a.replace('arn:aws:iam::111122223333:', '').toLowerCase());
      expect(new Set(granted)).toEqual(expected);
      for (const s of specs.filter(x => x.kind === 'user')) expect(granted).toContain(`user${s.path}${s.name}`.toLowerCase());
    }), { numRuns: RUNS });
  });

  test('every derived group is bound and every binding names a mapped group (extra groups exempt)', () => {
    fc.assert(fc.property(fc.array(specArb, { minLength: 1, maxLength: 12 }), raw => {
      const specs = normalize(raw);
      const { template } = synth(specs);
      const { mapRoles, mapUsers } = awsAuth(template);
      const extra = new Set(specs.flatMap(s => s.groups ?? []));
      const mapped = new Set([...mapRoles, ...mapUsers].flatMap(e => e.groups));
      const bound = new Set(rbacObjects(template).filter(o => o.kind.endsWith('Binding')).flatMap(o => o.subjects.map((x: any) => x.name)));
      for (const g of mapped) if (!g.startsWith('system:') && !extra.has(g)) expect(bound).toContain(g);
      for (const g of bound) expect(mapped).toContain(g);
    }), { numRuns: RUNS });
  });

  test('the template is byte-identical for any permutation and for a second synth', () => {
    const specsAndPermutation = fc.array(specArb, { minLength: 1, maxLength: 10 }).chain(raw => fc.tuple(
      fc.constant(normalize(raw)),
      fc.shuffledSubarray(normalize(raw), { minLength: raw.length, maxLength: raw.length }),
    ));
    fc.assert(fc.property(specsAndPermutation, ([specs, permuted]) => {
      const a = JSON.stringify(synth(specs).template.toJSON());
      expect(JSON.stringify(synth(specs).template.toJSON()) === a).toBe(true);
      expect(JSON.stringify(synth(permuted).template.toJSON()) === a).toBe(true);
    }), { numRuns: Math.max(5, Math.floor(RUNS / 2)) });
  });

  test('the admin role entry and the node role entry are always present', () => {
    fc.assert(fc.property(fc.array(specArb, { maxLength: 12 }), raw => {
      const { template, nodeRoleId, adminRoleId } = synth(normalize(raw));
      const { mapRoles } = awsAuth(template);
      const nodeArn = `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/\${${nodeRoleId}}`;
      expect(mapRoles.filter(e => e.rolearn === nodeArn)).toEqual([{ rolearn: nodeArn, username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:bootstrappers', 'system:nodes'] }]);
      const admin = mapRoles.filter(e => e.rolearn!.endsWith(`:role/\${${adminRoleId}}`));
      expect(admin).toHaveLength(1);
      expect(admin[0].groups).toContain('system:masters');
    }), { numRuns: RUNS });
  });

  describe('every bad input embedded in an otherwise valid set fails with an error naming it', () => {
    const bad = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'shared', 'data', 'bad-inputs.json'), 'utf8'));
    const cases: Array<[string, string]> = Object.entries(bad).filter(([k]) => !k.startsWith('_'))
      .flatMap(([k, list]) => (list as any[]).map(c => [k, c.value] as [string, string]));

    test.each(cases)('%s %j', (category, value) => {
      fc.assert(fc.property(fc.array(specArb, { maxLength: 6 }), fc.nat(), (raw, at) => {
        const specs = normalize(raw);
        const position = specs.length === 0 ? 0 : at % (specs.length + 1);
        const badGrant = () => {
          switch (category) {
            case 'roleArn': return () => AccessPrincipal.fromRoleArn(value);
            case 'userArn': return () => AccessPrincipal.fromUserArn(value);
            case 'ssoRoleArn': return () => AccessPrincipal.fromSsoPermissionSet(value);
            case 'namespace': return () => AccessLevel.namespaceView(value);
            default: return undefined;
          }
        };
        let error: Error | undefined;
        try {
          const stack = testStack();
          const cluster = testCluster(stack);
          specs.forEach((s, i) => {
            if (i === position) injectBad();
            cluster.grant(principalOf(s), levelOf(s), { username: s.username, groups: s.groups });
          });
          if (position >= specs.length) injectBad();
          Template.fromStack(stack);
          function injectBad() {
            const factory = badGrant();
            if (factory) {
              factory(); // factories throw when called
            } else if (category === 'username') {
              cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Injected'), AccessLevel.clusterView(), { username: value });
            } else {
              cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Injected'), AccessLevel.clusterView(), { groups: [value] });
            }
          }
        } catch (e) {
          error = e as Error;
        }
        expect(error).toBeDefined();
        expect(error!.message).toContain(JSON.stringify(value));
      }), { numRuns: 5 });
    });
  });
});
