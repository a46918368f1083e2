import { KubeApi } from '../../src/handlers/access-reconciler/kube';

/** One built-in resource as the API server's discovery names it. */
export interface DiscoveredResource {
  readonly group: string;
  readonly name: string;
  readonly singularName: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: string[];
}

/**
 * The built-in resources (and subresources) of the API server behind `api`, from its
 * discovery documents (/api/v1, /apis, each group's preferred version), sorted.
 */
export async function discover(api: KubeApi): Promise<DiscoveredResource[]> {
  const lists: Array<{ group: string; path: string }> = [{ group: '', path: '/api/v1' }];
  const groups = (await api.request('GET', '/apis')).body.groups as any[];
  for (const g of groups) lists.push({ group: g.name, path: `/apis/${g.preferredVersion.groupVersion}` });
  const out: DiscoveredResource[] = [];
  for (const { group, path } of lists) {
    const res = await api.request('GET', path);
    for (const r of res.body.resources as any[]) {
      out.push({ group, name: r.name, singularName: r.singularName ?? '', kind: r.kind, namespaced: r.namespaced, verbs: [...(r.verbs ?? [])].sort() });
    }
  }
  return out.sort((a, b) => (a.group + '/' + a.name).localeCompare(b.group + '/' + b.name));
}

/** The committed table's source (src/report/kube-resources.ts) for `resources` of `version`. */
export function renderTable(resources: DiscoveredResource[], version: string): string {
  const q = (v: string) => `'${v}'`;
  const rows = resources.map(r => `  [${q(r.group)}, ${q(r.name)}, ${q(r.singularName)}, ${r.namespaced}],`);
  return [
    '// Generated from the discovery of kube-apiserver ' + version + ' by test/real/discovery.test.ts',
    '// (KUBE_RESOURCES_WRITE=1 npx jest test/real/discovery rewrites it; the test fails when it is stale). Do not edit.',
    '',
    '/** The Kubernetes release the table was read from. */',
    `export const KUBE_RESOURCES_VERSION = '${version}';`,
    '',
    '/** Built-in resources and subresources: [API group, resource (plural), singular name, namespaced]. */',
    'export const KUBE_RESOURCES: ReadonlyArray<readonly [string, string, string, boolean]> = [',
    ...rows,
    '];',
    '',
  ].join('\n');
}
