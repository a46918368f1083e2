import { Construct, IConstruct } from 'constructs';

/**
 * Child constructs kept in the order of a sort key. Constructs render in the order they
 * were created, so to make a template independent of the order of grants, adding a key
 * that sorts before existing ones recreates those after it (same ids, same content).
 */
export class SortedConstructs<T extends IConstruct> {
  private readonly items = new Map<string, T>();

  /** @param create makes the construct of a key; the key is its construct id */
  constructor(private readonly scope: Construct, private readonly create: (scope: Construct, key: string) => T) {}

  public has(key: string): boolean {
    return this.items.has(key);
  }

  public get(key: string): T | undefined {
    return this.items.get(key);
  }

  public keys(): string[] {
    return Array.from(this.items.keys());
  }

  public values(): T[] {
    return Array.from(this.items.values());
  }

  /**
   * Adds a key (no-op when present).
   *
   * @returns true when constructs that already existed were recreated (anything that
   * holds a reference to them, such as a dependency, must be refreshed)
   */
  public add(key: string): boolean {
    if (this.items.has(key)) return false;
    const later = this.keys().filter(k => k > key);
    for (const k of later) {
      this.scope.node.tryRemoveChild(this.items.get(k)!.node.id);
      this.items.delete(k);
    }
    for (const k of [key, ...later]) this.items.set(k, this.create(this.scope, k));
    return later.length > 0;
  }
}
