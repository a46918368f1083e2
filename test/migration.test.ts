import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import { AccessLevel, AccessPrincipal } from '../src';
import { mixedGrants } from './fixtures';
import { awsAuth, flatten, rbacObjects, testCluster, testStack } from './util';

const { CONFIG_MAP, API_AND_CONFIG_MAP, API } = eks.AuthenticationMode;

/** The same app in any mode: the grants of a table (every kind of principal and level). */
function synth(mode: eks.AuthenticationMode, grants = mixedGrants(48)) {
  const stack = testStack();
  const cluster = testCluster(stack, { authenticationMode: mode });
  cluster.grantSsoPermissionSet('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_Ops_05a38657af2a0a01', AccessLevel.clusterAdmin());
  cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/x/Dev'), AccessLevel.namespaceView('team-01'), { groups: ['platform:readers'] });
  for (const g of grants) cluster.grant(g.principal, g.level, g.options);
  return { template: Template.fromStack(stack), adminRoleId: stack.getLogicalId(cluster.adminRole.node.defaultChild as any) };
}

/** A principal's identity as aws-iam-authenticator sees it: path-less role ARN, user ARN with path, lower case. */
function identity(arn: string): string {
  const m = /^(arn:[^:]+:iam::[^:]*:role\/)(?:.*\/)?([^/]+)$/.exec(arn);
  return (m ? m[1] + m[2] : arn).toLowerCase();
}

type Permissions = Map<string, string[]>;

/** What each principal may do: cluster-admin, or the bindings (scope, role, rules) its groups reach. */
function effectivePermissions(template: Template, backend: 'aws-auth' | 'access-entries'): Permissions {
  const objects = rbacObjects(template);
  const roles = new Map(objects.filter(o => o.kind === 'Role' || o.kind === 'ClusterRole').map(o => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.rules]));
  const grantsOf = (group: string) => objects.filter(o => o.kind.endsWith('Binding') && o.subjects.some((s: any) => s.kind === 'Group' && s.name === group))
    .map(b => `${b.metadata.namespace ?? '*'} ${b.roleRef.kind}/${b.roleRef.name} ${JSON.stringify(roles.get(`${b.roleRef.kind}/${b.roleRef.kind === 'Role' ? b.metadata.namespace : ''}/${b.roleRef.name}`) ?? 'built-in')}`);
  const out: Permissions = new Map();
  const add = (arn: string, groups: string[], admin: boolean) => {
    const perms = [...(admin ? ['cluster-admin'] : []), ...groups.filter(g => g !== 'system:masters').flatMap(grantsOf)].sort();
    out.set(identity(arn), perms);
  };
  if (backend === 'aws-auth') {
    const { mapRoles, mapUsers } = awsAuth(template);
    for (const e of [...mapRoles, ...mapUsers]) add((e.rolearn ?? e.userarn)!, e.groups, e.groups.includes('system:masters'));
  } else {
    for (const r of Object.values(template.findResources('AWS::EKS::AccessEntry'))) {
      const p = r.Properties;
      const admin = (p.AccessPolicies ?? []).some((a: any) => flatten(a.PolicyArn).endsWith(':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy') && a.AccessScope.Type === 'cluster');
      add(typeof p.PrincipalArn === 'string' ? p.PrincipalArn : flatten(p.PrincipalArn), p.KubernetesGroups ?? [], admin);
    }
  }
  return out;
}

describe('one grant, two backends', () => {
  test('equivalence: every principal has the same effective permissions from the CONFIG_MAP and the API templates', () => {
    const viaAwsAuth = effectivePermissions(synth(CONFIG_MAP).template, 'aws-auth');
    const viaAccessEntries = effectivePermissions(synth(API).template, 'access-entries');
    // identities differ only for the created admin role: path-less Ref vs its ARN attribute
    const normalize = (p: Permissions) => new Map(Array.from(p.entries()).map(([k, v]) => [k.replace(/^arn:\$\{aws::partition\}:iam::\$\{aws::accountid\}:role\/\$\{(\w+)\}$/, '$1').replace(/^\$\{(\w+)\.arn\}$/, '$1'), v]));
    expect(normalize(viaAccessEntries)).toEqual(normalize(viaAwsAuth));
    expect(viaAwsAuth.size).toBeGreaterThan(40);
    // the table really covers admin, built-in levels and custom rules
    const all = Array.from(viaAwsAuth.values()).flat().join('\n');
    for (const needle of ['cluster-admin', 'ClusterRole/view', 'ClusterRole/edit', 'ClusterRole/admin', ' Role/cdk-eks-access:custom-', '* ClusterRole/cdk-eks-access:custom-']) expect(all).toContain(needle);
  });

  describe('migration CONFIG_MAP -> API_AND_CONFIG_MAP -> API: nobody loses access at any step', () => {
    const steps = [CONFIG_MAP, API_AND_CONFIG_MAP, API].map(mode => ({ mode, ...synth(mode) }));
    const readBy = (mode: eks.AuthenticationMode) => ({ awsAuth: mode !== API, accessEntries: mode !== CONFIG_MAP });

    test('each step: aws-auth where the mode reads it, access entries where it reads them', () => {
      for (const step of steps) {
        const hasAwsAuth = Object.keys(step.template.findResources('Custom::CdkEksAccessAwsAuth')).length > 0;
        expect(hasAwsAuth).toBe(readBy(step.mode).awsAuth);
        expect(Object.keys(step.template.findResources('AWS::EKS::AccessEntry')).length > 0).toBe(readBy(step.mode).accessEntries);
      }
    });

    test('during each deploy (old and new template both in force) every principal keeps its permissions', () => {
      const want = effectivePermissions(steps[0].template, 'aws-auth');
      const norm = (p: Permissions) => new Map(Array.from(p.entries()).filter(([k]) => !k.includes('$')));
      for (const step of steps) {
        const r = readBy(step.mode);
        // in API_AND_CONFIG_MAP both backends must each give the full permissions,
        // so whichever EKS consults first, nothing is lost
        if (r.awsAuth) expect(norm(effectivePermissions(step.template, 'aws-auth'))).toEqual(norm(want));
        if (r.accessEntries) expect(norm(effectivePermissions(step.template, 'access-entries'))).toEqual(norm(want));
      }
    });

    test('access entries are not replaced between API_AND_CONFIG_MAP and API (same logical ids and properties)', () => {
      expect(steps[2].template.findResources('AWS::EKS::AccessEntry')).toEqual(steps[1].template.findResources('AWS::EKS::AccessEntry'));
    });

    test('RBAC objects are identical in every mode', () => {
      const rbac = steps.map(s => JSON.stringify(rbacObjects(s.template)));
      expect(rbac[1]).toBe(rbac[0]);
      expect(rbac[2]).toBe(rbac[0]);
    });

    test('an access entry keeps its logical id when other principals are added or removed', () => {
      const ids = (template: Template) => Object.entries(template.findResources('AWS::EKS::AccessEntry')).map(([id, r]) => `${id} ${JSON.stringify(r.Properties.PrincipalArn)}`);
      const fewer = ids(synth(API, mixedGrants(48).filter((_, i) => i % 5 !== 0)).template);
      const all = ids(steps[2].template);
      for (const line of fewer) expect(all).toContain(line);
    });
  });
});
