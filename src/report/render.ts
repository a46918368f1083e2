import { accessPolicyPermissions, isClusterAdmin, permissionsOf } from './evaluate';
import { ParsedCluster, ParsedPrincipal } from './parse';

/** What a principal may do, one short line per binding (or `cluster-admin`). */
export function accessLines(c: ParsedCluster, p: ParsedPrincipal): string[] {
  const admin = isClusterAdmin(c, p);
  const lines = admin ? ['cluster-admin'] : [];
  for (const perm of accessPolicyPermissions(c, p)) {
    if (admin && perm.role.startsWith('AmazonEKSClusterAdminPolicy')) continue;
    lines.push(`${perm.scope === '*' ? 'all namespaces' : `ns ${perm.scope}`}: access policy ${perm.role.replace(/ \(.*\)$/, '')}`);
  }
  for (const perm of permissionsOf(c, p)) {
    const scope = perm.scope === '*' ? 'all namespaces' : `ns ${perm.scope}`;
    const what = perm.builtIn
      ? `${perm.role.replace(/^ClusterRole /, '')} (built-in)`
      : perm.rules.map(r => `${r.verbs.join(',')} ${r.nonResourceURLs ? r.nonResourceURLs.join(',') : (r.resources ?? []).map(x => ((r.apiGroups ?? [''])[0] ? `${(r.apiGroups ?? [''])[0]}/` : '') + x).join(',')}${r.resourceNames ? ` [${r.resourceNames.join(',')}]` : ''}`).join('; ');
    lines.push(`${scope}: ${what}`);
  }
  return lines.length > 0 ? lines : ['(nothing bound)'];
}

function table(headers: string[], body: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map(r => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map(w => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const HEADERS = ['principal', 'username', 'groups', 'via', 'access'];

function rows(c: ParsedCluster): string[][] {
  return c.principals.flatMap(p => accessLines(c, p).map((line, i) => (i === 0
    ? [p.display, p.username, p.groups.join(', '), p.backends.join('+'), line]
    : ['', '', '', '', line])));
}

export function toText(clusters: ParsedCluster[]): string {
  return clusters.map(c => `Cluster ${c.id} (${c.authenticationMode})\n\n${table(HEADERS, rows(c))}\n\n${kubectlAccess(c).join('\n')}\n`).join('\n');
}

/**
 * How each principal gets kubectl working: its `aws eks update-kubeconfig` command
 * (`--role-arn` for a role to assume, `--profile` for an IAM Identity Center permission
 * set, nothing for a user), and for a principal the template does not give
 * `eks:DescribeCluster`, the IAM statement it needs and where it belongs.
 */
export function kubectlAccess(c: ParsedCluster): string[] {
  const out = ['kubectl access (aws eks update-kubeconfig needs eks:DescribeCluster):'];
  const statement = JSON.stringify({ Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: c.arn });
  for (const p of c.principals) {
    const base = `aws eks update-kubeconfig --name ${c.name} --region \${AWS::Region}`;
    const isUser = p.isUser;
    const command = p.permissionSetName !== undefined ? `${base} --profile <your profile of permission set ${p.permissionSetName}>`
      : isUser ? base : `${base} --role-arn ${p.arn}`;
    out.push(`  ${p.display}`, `    ${command}`);
    if (!p.describeCluster) {
      const where = p.permissionSetName !== undefined ? `in permission set ${p.permissionSetName} (IAM Identity Center)` : `on ${isUser ? 'the user' : 'the role'}`;
      out.push(`    needs ${where}: ${statement}`);
    }
  }
  return out;
}

function mermaidId(prefix: string, value: string): string {
  return prefix + value.replace(/[^A-Za-z0-9]/g, '_');
}

function mermaidLabel(value: string): string {
  return `"${value.replace(/"/g, "'")}"`;
}

/** Markdown: a table per cluster and a Mermaid diagram principal -> group -> role -> namespace. */
export function toMarkdown(clusters: ParsedCluster[]): string {
  const out: string[] = ['# Cluster access report', ''];
  for (const c of clusters) {
    out.push(`## ${c.id} (${c.authenticationMode})`, '');
    out.push(`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map(() => '---').join('|')}|`);
    for (const r of rows(c)) out.push(`| ${r.map(x => x.replace(/\|/g, '\\|')).join(' | ')} |`);
    out.push('', '```mermaid', 'flowchart LR');
    const edges = new Set<string>();
    for (const p of c.principals) {
      const pid = mermaidId('p_', p.identity);
      const admin = isClusterAdmin(c, p);
      if (admin) edges.add(`  ${pid}[${mermaidLabel(p.display)}] --> admin((cluster-admin))`);
      for (const perm of permissionsOf(c, p)) {
        const gid = mermaidId('g_', perm.group);
        const rid = mermaidId('r_', `${perm.scope} ${perm.role}`);
        const nid = mermaidId('n_', perm.scope);
        edges.add(`  ${pid}[${mermaidLabel(p.display)}] --> ${gid}{{${mermaidLabel(perm.group)}}}`);
        edges.add(`  ${gid} --> ${rid}[${mermaidLabel(perm.role)}]`);
        edges.add(`  ${rid} --> ${nid}[(${mermaidLabel(perm.scope === '*' ? 'all namespaces' : perm.scope)})]`);
      }
    }
    out.push(...Array.from(edges), '```', '');
  }
  return out.join('\n');
}

/** Plain data for JSON output. */
export function toData(clusters: ParsedCluster[]): unknown {
  return clusters.map(c => ({
    cluster: c.id,
    authenticationMode: c.authenticationMode,
    principals: c.principals.map(p => ({
      principal: p.display,
      arn: p.arn,
      username: p.username,
      groups: p.groups,
      via: p.backends,
      clusterAdmin: isClusterAdmin(c, p) !== undefined,
      accessPolicies: p.accessPolicies,
      describeCluster: p.describeCluster,
      permissions: permissionsOf(c, p).map(perm => ({
        scope: perm.scope, group: perm.group, binding: perm.binding, role: perm.role, builtIn: perm.builtIn, rules: perm.rules,
      })),
    })),
  }));
}
