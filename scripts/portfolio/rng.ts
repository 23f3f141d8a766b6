/**
 * A small seeded random source (xoshiro128**, seeded through splitmix32):
 * the same seed gives the same portfolio on every machine and Node version,
 * which Math.random cannot promise.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** A whole number in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** One of the values, with probability proportional to its weight. */
  weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): T;
  /** `n` characters of `alphabet`. */
  chars(n: number, alphabet: string): string;
}

export const DIGITS = '0123456789';
export const HEX = '0123456789abcdef';
export const BASE64 =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function createRng(seed: number): Rng {
  let x = seed >>> 0;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
    return (z ^ (z >>> 15)) >>> 0;
  };
  const s = Uint32Array.from([splitmix(), splitmix(), splitmix(), splitmix()]);
  const rotl = (v: number, k: number): number => (v << k) | (v >>> (32 - k));
  const nextU32 = (): number => {
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s[2] = (s[2] as number) ^ s0;
    s[3] = (s[3] as number) ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = s0 ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  };
  const next = (): number => nextU32() / 4294967296;
  const int = (lo: number, hi: number): number =>
    lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T =>
      items[Math.floor(next() * items.length)] as T,
    chance: (p) => next() < p,
    weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): T {
      const total = pairs.reduce((sum, [, w]) => sum + w, 0);
      let r = next() * total;
      for (const [value, w] of pairs) {
        r -= w;
        if (r < 0) return value;
      }
      return (pairs[pairs.length - 1] as readonly [T, number])[0];
    },
    chars(n, alphabet) {
      let out = '';
      for (let i = 0; i < n; i++) out += alphabet[int(0, alphabet.length - 1)];
      return out;
    },
  };
}
