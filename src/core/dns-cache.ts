import type { DnsPort, QueryResult, QueryType } from './dns.js';
import { isFailure } from './dns.js';
import { GenerationalCache } from './lru.js';

export interface DnsCacheOptions {
  /** Entries kept at least (recently used ones stay), at most twice that. Default 20 000. */
  size?: number;
  /** An answer is asked again after this long, in ms. Default 10 minutes. */
  maxAgeMs?: number;
  now: () => number;
}

interface Entry {
  at: number;
  result: Promise<QueryResult>;
}

/**
 * Memoises answers for names many domains share (Google's MX hosts, gateway
 * hosts, provider SPF includes) so a run asks each once. A name is kept from
 * its second ask on: most names outside a domain belong to that domain alone
 * (`<tenant>.mail.protection.outlook.com`), and keeping them filled the
 * cache with answers nobody asked for again. Failures are not kept: the next
 * domain asks again. Concurrent askers of a kept name share one query.
 */
export function createDnsCache(
  inner: DnsPort,
  options: DnsCacheOptions,
): DnsPort & { stats(): { hits: number; misses: number } } {
  const maxAge = options.maxAgeMs ?? 600_000;
  const size = options.size ?? 20_000;
  const entries = new GenerationalCache<string, Entry>(size);
  /** Names asked once and not kept (yet). */
  const seen = new GenerationalCache<string, true>(size);
  let hits = 0;
  let misses = 0;
  return {
    query<T extends QueryType>(name: string, type: T): Promise<QueryResult<T>> {
      const key = `${type} ${name}`;
      const now = options.now();
      const hit = entries.get(key);
      if (hit && now - hit.at < maxAge) {
        hits++;
        return hit.result as Promise<QueryResult<T>>;
      }
      misses++;
      const result = inner.query(name, type);
      if (!hit && !seen.get(key)) {
        seen.set(key, true);
        return result;
      }
      seen.delete(key);
      const entry = { at: now, result };
      entries.set(key, entry);
      void result.then((r) => {
        if (isFailure(r.status) && entries.get(key) === entry)
          entries.delete(key);
      });
      return result;
    },
    stats: () => ({ hits, misses }),
  };
}
