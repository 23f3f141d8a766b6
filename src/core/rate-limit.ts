import type { Clock, Scheduler } from './clock.js';
import type { DnsPort, QueryResult, QueryType } from './dns.js';

/**
 * Spaces queries to at most `qps` per second over the whole run (a resolver's
 * limit is per source). Queries beyond the budget wait their turn.
 */
export function createRateLimitedDns(
  inner: DnsPort,
  qps: number,
  clock: Clock & Pick<Scheduler, 'sleep'>,
): DnsPort {
  const interval = 1000 / qps;
  let next = 0;
  return {
    async query<T extends QueryType>(
      name: string,
      type: T,
    ): Promise<QueryResult<T>> {
      const now = clock.now();
      const at = Math.max(now, next);
      next = at + interval;
      if (at > now) await clock.sleep(at - now);
      return inner.query(name, type);
    },
  };
}
