import { QueueError } from './queue-error.js';

/**
 * The Redis URL of a command: `--redis URL`, else `REDIS_URL`. Checked
 * eagerly so a typo is one clear line, not a connection error later.
 */
export function resolveRedisUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): string {
  const url = flag ?? env.REDIS_URL;
  if (!url) {
    throw new QueueError(
      'EXO_REDIS_MISSING',
      'no Redis: set REDIS_URL or pass --redis redis://host:6379',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueError(
      'EXO_REDIS_URL',
      `not a Redis URL: ${redactUrl(url)} (expected redis://[user:password@]host[:port][/db])`,
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new QueueError(
      'EXO_REDIS_URL',
      `not a Redis URL: ${redactUrl(url)} (expected redis:// or rediss://)`,
    );
  }
  return url;
}

/**
 * The URL with its password replaced by `***`: what every message, log line
 * and status output shows. Works on strings that `URL` cannot parse too.
 */
export function redactUrl(url: string): string {
  return url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i,
    (_m, scheme: string, auth: string) => {
      const colon = auth.indexOf(':');
      return colon === -1
        ? `${scheme}***@` // redis://password@host: the lone part is the password
        : `${scheme}${auth.slice(0, colon)}:***@`;
    },
  );
}

/** The secrets a URL carries (password, and a lone user part), decoded and raw. */
function secretsOf(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^@/?#]*)@/i.exec(url);
  if (!m?.[1]) return [];
  const auth = m[1];
  const colon = auth.indexOf(':');
  const raw = colon === -1 ? auth : auth.slice(colon + 1);
  if (!raw) return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // a malformed escape: the raw text is all we can match
  }
  return [...new Set([raw, decoded])].filter((s) => s.length > 0);
}

/**
 * Removes a URL's secrets from any text (an error message from the client,
 * a stack): the URL itself is redacted, and the password wherever it appears.
 */
export function redactSecrets(text: string, url: string | null): string {
  if (!url) return text;
  let out = text.split(url).join(redactUrl(url));
  for (const secret of secretsOf(url)) out = out.split(secret).join('***');
  return out;
}
