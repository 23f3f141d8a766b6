/** The parts of an SPF record (RFC 7208) the classifier reads. */
export interface SpfRecord {
  /** `include:` domains, lower-case, in order. */
  includes: string[];
  /** `redirect=` domain, or null. */
  redirect: string | null;
  ip4: string[];
  ip6: string[];
  /** The `all` mechanism with its qualifier (`-all`, `~all`, ...), or ''. */
  all: string;
}

/** Parses an SPF record's terms; unknown or malformed terms are skipped. */
export function parseSpf(record: string): SpfRecord {
  const spf: SpfRecord = {
    includes: [],
    redirect: null,
    ip4: [],
    ip6: [],
    all: '',
  };
  const terms = record.trim().split(/\s+/).slice(1);
  for (const term of terms) {
    const lower = term.toLowerCase();
    const body = /^[+\-~?]/.test(lower) ? lower.slice(1) : lower;
    if (body.startsWith('include:')) spf.includes.push(trimDot(body.slice(8)));
    else if (body.startsWith('redirect='))
      spf.redirect = trimDot(body.slice(9));
    else if (body.startsWith('ip4:')) spf.ip4.push(body.slice(4));
    else if (body.startsWith('ip6:')) spf.ip6.push(body.slice(4));
    else if (body === 'all') spf.all = lower === 'all' ? '+all' : lower;
  }
  return spf;
}

function trimDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
