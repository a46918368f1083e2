import * as fc from 'fast-check';

/**
 * Generated aws-auth data (mapRoles, mapUsers) of the shapes found in real clusters and in
 * bug reports: camel-case keys, quoting styles, anchors and aliases, merge keys, duplicate
 * ARNs and keys, `sso:` mappings with and without a partition, pathed ARNs, `*` in `rolearn`,
 * YAML 1.1 scalars (`yes`, `on`, `0777`, `~`, dates), non-ASCII, control characters, flow
 * and block sequences, comments, placeholders and plain garbage. Every document comes with
 * the callers to ask about it.
 */
export const ACCOUNT = '111122223333';

export const ROLE_NAMES = ['Admin', 'admin', 'ADMIN', 'team/Dev', 'Dev', '*', 'Dev?', 'AWSReservedSSO_ViewOnly_0123456789abcdef',
  'AWSReservedSSO_Admin.Set_fedcba9876543210', 'NodeInstanceRole', 'ci-deployer'];
export const USER_NAMES = ['alice', 'Alice', 'ops/bob', 'bob', 'carol@example.com'];
const PERMISSION_SETS = ['ViewOnly', 'Admin.Set', 'admin.set', 'Other'];

const roleArn = (name: string, partition = 'aws') => `arn:${partition}:iam::${ACCOUNT}:role/${name}`;
const userArn = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;

/** The callers every document is asked about: roles, their STS sessions, users, strangers. */
export function callers(): string[] {
  const out: string[] = [];
  for (const name of ROLE_NAMES) {
    out.push(roleArn(name));
    const base = name.split('/').pop()!;
    out.push(`arn:aws:sts::${ACCOUNT}:assumed-role/${base}/session-1`);
  }
  out.push(roleArn('Admin', 'aws-cn'), 'arn:aws:iam::444455556666:role/Admin');
  for (const name of USER_NAMES) out.push(userArn(name));
  return [...new Set(out)];
}

const scalarStrings = ['admin', 'sso:{{SessionName}}', 'ops:{{AccountID}}', 'yes', 'no', 'on', 'off', 'y', 'N', '0777', '1e3', '0x1F', '~', 'null',
  '2001-12-14', '12:30:45', 'é', 'ü-user', 'système', '日本', 'a b', '', 'true', '.inf', '-', 'dev', 'ops', 'viewer', 'x-y', 'team:a'];
/** Indicators that cannot start a plain scalar, and tags: rarer, as they make most documents unreadable. */
const oddStrings = ['@at', '%pct', '!tag', '`tick', '|', '>', '*star', '&amp'];
const controlChars = ['\x7f', '\x85', '\x80', '\x9f', '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff', '\x01', '\t', '\u00a0'];
const groupNames = ['system:masters', 'system:bootstrappers', 'system:nodes', 'team-a', 'view', 'platform:admins'];

/** A scalar written in one of YAML's styles (some of which change or break what it means). */
const scalar = (pool: string[]) => fc.tuple(
  fc.oneof({ weight: 24, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.constantFrom(...oddStrings) }, { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...pool), fc.constantFrom(...controlChars)).map(([a, c]) => `${a}${c}`) }),
  fc.constantFrom('plain', 'single', 'double', 'double', 'json'),
).map(([v, style]) => {
  if (style === 'plain') return v;
  if (style === 'single') return `'${v.replace(/'/g, "''")}'`;
  if (style === 'double') return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return JSON.stringify(v);
});

const key = (name: string) => fc.constantFrom(name, name, name, name.charAt(0).toUpperCase() + name.slice(1),
  name.replace('arn', 'Arn'), name.toUpperCase());

const groupsValue = fc.oneof(
  fc.array(scalar(groupNames), { maxLength: 3 }).map(g => `[${g.join(', ')}]`),
  fc.array(scalar(groupNames), { minLength: 1, maxLength: 3 }).map(g => `\n${g.map(x => `      - ${x}`).join('\n')}`),
  scalar(groupNames), // a string where a list belongs
  fc.constantFrom('', '~', '[]', '{}'),
);

const arnValue = (section: 'mapRoles' | 'mapUsers') => fc.tuple(
  section === 'mapRoles' ? fc.constantFrom(...ROLE_NAMES.map(n => roleArn(n)), roleArn('Admin', 'aws-cn'), `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ViewOnly_0123456789abcdef`)
    : fc.constantFrom(...USER_NAMES.map(userArn)),
  fc.constantFrom('plain', 'single', 'double', 'tail'),
).map(([arn, style]) => (style === 'single' ? `'${arn}'` : style === 'double' ? `"${arn}"` : style === 'tail' ? `${arn} # comment` : arn));

const ssoValue = fc.tuple(fc.constantFrom(...PERMISSION_SETS), fc.constantFrom(`"${ACCOUNT}"`, ACCOUNT, `'${ACCOUNT}'`, '12345'),
  fc.constantFrom(undefined, 'aws', 'aws-cn', 'bogus'), key('permissionSetName'), key('accountID'))
  .map(([set, account, partition, setKey, accountKey]) => `\n    ${setKey}: ${set}\n    ${accountKey}: ${account}${partition ? `\n    partition: ${partition}` : ''}`);

/** One item's fields, as `key: value` lines (the first without indentation). */
const itemFields = (section: 'mapRoles' | 'mapUsers') => fc.tuple(
  fc.oneof({ weight: 5, arbitrary: fc.tuple(key(section === 'mapRoles' ? 'rolearn' : 'userarn'), arnValue(section)).map(([k, v]) => `${k}: ${v}`) },
    { weight: section === 'mapRoles' ? 2 : 0, arbitrary: ssoValue.map(v => `sso:${v}`) },
    { weight: 1, arbitrary: fc.constant('') }),
  fc.option(fc.tuple(key('username'), scalar(scalarStrings)).map(([k, v]) => `${k}: ${v}`), { freq: 8 }),
  fc.option(fc.tuple(key('groups'), groupsValue).map(([k, v]) => `${k}: ${v}`), { freq: 8 }),
  fc.option(fc.constantFrom('username: other', 'rolearn: arn:aws:iam::111122223333:role/Admin', 'extra: field', '# a comment'), { freq: 6 }),
).map(fields => fields.filter((f): f is string => typeof f === 'string' && f !== ''));

const item = (section: 'mapRoles' | 'mapUsers') => fc.tuple(itemFields(section), fc.constantFrom('block', 'block', 'flow', 'anchor'))
  .map(([fields, style]) => ({ fields, style }));

/** A section's text. */
export const sectionText = (section: 'mapRoles' | 'mapUsers') => fc.oneof(
  {
    weight: 12,
    arbitrary: fc.tuple(fc.array(item(section), { maxLength: 5 }), fc.constantFrom('', '  '), fc.boolean(), fc.constantFrom(0, 0, 0, 1, 2)).map(([items, indent, flowSeq, aliases]) => {
      const lines: string[] = [];
      const anchors: string[] = [];
      const flowItems: string[] = [];
      items.forEach((it, i) => {
        const flow = it.style === 'flow' && it.fields.every(f => !f.includes('\n') && !f.startsWith('#'));
        if (flowSeq || flow) {
          // block content has no place in a flow collection: such fields stay out
          const text = `{${it.fields.filter(f => !f.startsWith('#') && !f.includes('\n')).map(f => f.replace(/ # comment$/, '')).join(', ')}}`;
          if (flowSeq) flowItems.push(text);
          else lines.push(`${indent}- ${text}`);
          return;
        }
        const anchor = it.style === 'anchor' ? `&a${i} ` : '';
        if (anchor) anchors.push(`a${i}`);
        const [first, ...rest] = it.fields.length > 0 ? it.fields : ['{}'];
        const body = [first, ...rest].map(f => f.replace(/\n {4}/g, `\n${indent}    `).replace(/\n {6}/g, `\n${indent}      `));
        lines.push(`${indent}- ${anchor}${anchor && first !== '{}' ? `\n${indent}  ` : ''}${body[0]}`);
        for (const f of body.slice(1)) lines.push(`${indent}  ${f}`);
      });
      if (flowSeq) return `[${flowItems.join(', ')}]\n`;
      for (let a = 0; a < aliases && anchors.length > 0; a++) {
        lines.push(a === 0 ? `${indent}- *${anchors[0]}` : `${indent}- <<: *${anchors[anchors.length - 1]}\n${indent}  username: merged`);
      }
      return lines.join('\n') + '\n';
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '""', '``', "''", '[]', '~', 'null', '   \n', '{}', 'just text', '- [a, b]', '- rolearn: [unclosed',
      '\t- rolearn: x', '- rolearn: arn:aws:iam::111122223333:role/Admin\n username: bad-indent', '- *nowhere', '- 1\n- 2'),
  },
);

/** A generated aws-auth data object. */
export const awsAuthData = fc.record({
  mapRoles: fc.option(sectionText('mapRoles'), { freq: 8 }),
  mapUsers: fc.option(sectionText('mapUsers'), { freq: 3 }),
}).map(d => Object.fromEntries(Object.entries(d).filter(([, v]) => typeof v === 'string')) as Record<string, string>);
