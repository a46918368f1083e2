import { KubeObject, objectKey } from './objects';
import { hashBits } from '../private/hash';

/**
 * Bytes an object list takes serialized as a JSON string inside JSON. The reconciler's
 * `Objects` property holds the objects inline, which is never larger (no escaping), so
 * this is a safe upper bound for the chunk size limit.
 */
export function manifestBytes(objects: KubeObject[]): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(objects)), 'utf8');
}

// Escaping is per character, so a list's size is the sum of its items' sizes plus the
// brackets, commas and quotes: items are measured once (objects are never mutated).
const itemBytes = new WeakMap<KubeObject, number>();
function bytesOf(obj: KubeObject): number {
  let bytes = itemBytes.get(obj);
  if (bytes === undefined) {
    bytes = manifestBytes([obj]) - 4; // minus the quotes and brackets of a one-item list
    itemBytes.set(obj, bytes);
  }
  return bytes;
}
function listBytes(objects: KubeObject[]): number {
  return 4 + Math.max(0, objects.length - 1) + objects.reduce((sum, o) => sum + bytesOf(o), 0);
}
const bitsCache = new Map<string, string>();
function bitsOf(key: string): string {
  let bits = bitsCache.get(key);
  if (bits === undefined) {
    bits = hashBits(key, MAX_DEPTH);
    bitsCache.set(key, bits);
  }
  return bits;
}

const MAX_DEPTH = 16;

/**
 * Splits objects into chunks whose manifests stay under `targetBytes`.
 *
 * Assignment is by a hash of each object's identity, not by position: the chunk ids
 * are prefixes of the hash in binary (`''` holds everything while it fits; over the
 * target it splits into `'0'` and `'1'`, and so on). Adding or removing one object
 * changes only the chunk it hashes into, unless that chunk crosses the target and
 * splits (or its sibling pair merges back).
 *
 * @returns chunks by id, objects sorted by identity inside each chunk
 */
export function assignChunks(objects: KubeObject[], targetBytes: number): Map<string, KubeObject[]> {
  const items = objects
    // A role and its binding share namespace and name: hashing those (not the kind) keeps
    // them in one chunk, so a grant that adds both changes one chunk.
    .map(obj => ({ key: objectKey(obj), obj, bits: bitsOf(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const result = new Map<string, KubeObject[]>();
  const place = (prefix: string, group: typeof items) => {
    if (group.length === 0) return;
    const list = group.map(i => i.obj);
    const bytes = listBytes(list);
    if (bytes <= targetBytes || prefix.length >= MAX_DEPTH || group.length === 1) {
      if (bytes > targetBytes && group.length > 1) {
        throw new Error(`cdk-eks-access: ${group.length} RBAC objects share the hash prefix ${prefix} and exceed ${targetBytes} bytes; this should not happen, please report it`);
      }
      result.set(prefix, list);
      return;
    }
    place(prefix + '0', group.filter(i => i.bits[prefix.length] === '0'));
    place(prefix + '1', group.filter(i => i.bits[prefix.length] === '1'));
  };
  place('', items);
  return new Map(Array.from(result.entries()).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
