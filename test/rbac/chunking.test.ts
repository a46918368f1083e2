import { assignChunks, manifestBytes } from '../../src/rbac/chunking';
import { role, roleBinding } from '../../src/rbac/objects';

function objects(n: number) {
  return Array.from({ length: n }, (_, i) => [
    role(`ns-${i % 9}`, `r-${i}`, [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]),
    roleBinding(`ns-${i % 9}`, `r-${i}`, 'Role', `r-${i}`, `group-${i}`),
  ]).flat();
}

describe('assignChunks', () => {
  test('one chunk while everything fits', () => {
    const chunks = assignChunks(objects(10), 1_000_000);
    expect(Array.from(chunks.keys())).toEqual(['']);
    expect(chunks.get('')).toHaveLength(20);
  });

  test('splits by hash prefix under the target, every object exactly once', () => {
    const all = objects(300);
    const target = 30_000;
    const chunks = assignChunks(all, target);
    expect(chunks.size).toBeGreaterThan(1);
    for (const list of chunks.values()) expect(manifestBytes(list)).toBeLessThanOrEqual(target);
    expect(Array.from(chunks.values()).flat()).toHaveLength(all.length);
  });

  test('a role and its binding always land in the same chunk', () => {
    const chunks = assignChunks(objects(300), 30_000);
    for (const list of chunks.values()) {
      const names = (kind: string) => list.filter(o => o.kind === kind).map(o => o.metadata.name).sort();
      expect(names('Role')).toEqual(names('RoleBinding'));
    }
  });

  test('adding an object changes only the chunk it hashes into (no split)', () => {
    const base = assignChunks(objects(300), 30_000);
    const more = assignChunks([...objects(300), ...objects(301).slice(600)], 30_000);
    const changed = Array.from(new Set([...base.keys(), ...more.keys()]))
      .filter(id => JSON.stringify(base.get(id)) !== JSON.stringify(more.get(id)));
    expect(changed).toHaveLength(1);
  });

  test('an object only ever moves from a chunk that goes away to a chunk that is new (so CloudFormation creates the new owner before it deletes the old one)', () => {
    // sizes 1..400 cross many splits; compare each assignment with the next one
    const chunkOf = (a: Map<string, any[]>) => new Map(Array.from(a.entries()).flatMap(([id, list]) => list.map(o => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, id] as [string, string])));
    let moves = 0;
    let before = assignChunks(objects(1), 30_000);
    for (let n = 2; n <= 400; n += 7) {
      const after = assignChunks(objects(n), 30_000);
      const [was, now] = [chunkOf(before), chunkOf(after)];
      for (const [key, from] of was) {
        const to = now.get(key)!;
        if (to === from) continue;
        moves++;
        expect(after.has(from)).toBe(false); // the old chunk is removed
        expect(before.has(to)).toBe(false); // the new chunk did not exist
      }
      before = after;
    }
    expect(moves).toBeGreaterThan(0); // splits really happened
  });

  test('input order does not matter', () => {
    const all = objects(200);
    expect(JSON.stringify(Array.from(assignChunks([...all].reverse(), 20_000)))).toBe(JSON.stringify(Array.from(assignChunks(all, 20_000))));
  });
});

test('the size estimate is exact (the sum of item sizes plus separators)', () => {
  // guards the additive size computation used to avoid re-serializing lists
  const all = objects(50);
  const chunks = assignChunks(all, 8_000);
  for (const list of chunks.values()) expect(manifestBytes(list)).toBeLessThanOrEqual(8_000);
  const sizes = Array.from(chunks.values()).map(manifestBytes);
  expect(Math.max(...sizes)).toBeGreaterThan(4_000); // chunks are filled, not split needlessly
});
