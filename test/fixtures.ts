import { AccessLevel, AccessPrincipal, GrantOptions } from '../src';

export interface GrantSpec {
  readonly principal: AccessPrincipal;
  readonly level: AccessLevel;
  readonly options?: GrantOptions;
}

const HEX = '0123456789abcdef';

/**
 * `n` deterministic grants over mixed principal kinds (roles with and without paths,
 * users, SSO permission-set roles), levels and namespaces. Grant i always names the same
 * principal and level, whatever `n` is, so fixtures of different sizes share a prefix.
 */
export function mixedGrants(n: number, namespaces = 40): GrantSpec[] {
  const out: GrantSpec[] = [];
  for (let i = 0; i < n; i++) {
    const ns = `team-${String(i % namespaces).padStart(2, '0')}`;
    const p = i % 4;
    const id = String(i).padStart(3, '0');
    const principal = p === 0 ? AccessPrincipal.fromRoleArn(`arn:aws:iam::111122223333:role/teams/${ns}/deployer-${id}`)
      : p === 1 ? AccessPrincipal.fromUserArn(`arn:aws:iam::111122223333:user/people/user-${id}`)
        : p === 2 ? AccessPrincipal.fromSsoPermissionSet(`arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Set${id}_${(HEX.repeat(2) + id).slice(-16)}`)
          : AccessPrincipal.fromRoleArn(`arn:aws:iam::444455556666:role/ci-${id}`);
    const l = i % 6;
    const level = l === 0 ? AccessLevel.namespaceView(ns)
      : l === 1 ? AccessLevel.namespaceEdit(ns)
        : l === 2 ? AccessLevel.namespaceAdmin(ns)
          : l === 3 ? AccessLevel.clusterView()
            : l === 4 ? AccessLevel.custom({ namespaceName: ns, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'patch'] }, { apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: [`app-${i % 7}`], verbs: ['get'] }] })
              : AccessLevel.custom({ rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }, { nonResourceURLs: ['/metrics', `/debug/${id}`], verbs: ['get'] }] });
    out.push({ principal, level });
  }
  return out;
}
