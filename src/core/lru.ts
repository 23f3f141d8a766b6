/**
 * A bounded map that forgets the least recently used entries, in O(1):
 * two generations, the older dropped whole when the newer fills up.
 * (Deleting the oldest key of one big Map one by one leaves V8 walking over
 * the holes on every `keys().next()`: quadratic on long runs.)
 */
export class GenerationalCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  /** Holds at least `capacity` and at most 2 × `capacity` entries. */
  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o); // promote: recently used
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }
}
