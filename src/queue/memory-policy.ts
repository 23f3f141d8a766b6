import type { Redis } from 'ioredis';

/**
 * Checks Redis's `maxmemory-policy`: any eviction policy may silently drop a
 * queued job or a stored result, breaking "every row exactly once". Returns
 * the warning to print, or null when the policy is `noeviction`. Managed
 * Redis services often disable CONFIG; that is a note, not an error.
 */
export async function evictionWarning(redis: Redis): Promise<string | null> {
  let policy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    policy = policyFrom(reply);
  } catch {
    return 'note: cannot read Redis maxmemory-policy (CONFIG is disabled); make sure it is noeviction, or results may be lost';
  }
  if (policy === undefined || policy === 'noeviction') return null;
  return `WARNING: Redis maxmemory-policy is '${policy}', not 'noeviction': Redis may evict queued chunks or results under memory pressure and the scan would lose rows. Set 'maxmemory-policy noeviction'.`;
}

function policyFrom(reply: unknown): string | undefined {
  // ["maxmemory-policy", "allkeys-lru"], or an object with RESP3 mapping
  if (Array.isArray(reply))
    return typeof reply[1] === 'string' ? reply[1] : undefined;
  if (reply && typeof reply === 'object') {
    const v = (reply as Record<string, unknown>)['maxmemory-policy'];
    return typeof v === 'string' ? v : undefined;
  }
  return undefined;
}
