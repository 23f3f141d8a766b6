/**
 * Who owns an IP address: the owner record, the core's ASN port that answers
 * it, and the cleaning of the organisation text a source returns. Sources
 * live in adapters; the range table they may build is in `asn-table.ts`.
 */

/** The owner of one IP address, as far as one source knows. */
export interface IpOwner {
  /** Origin autonomous system number; `null` when unknown. */
  asn: number | null;
  /** Organisation holding the AS, sanitised; `''` when unknown. */
  org: string;
  /** A CIDR block containing the address and owned by `asn`; `''` when unknown. */
  prefix: string;
  /**
   * Where the answer came from: the packaged dataset (`table`), Team Cymru's
   * DNS interface (`cymru`), a file given with `--asn-db` (`user-db`), or no
   * answer at all (`none`).
   */
  source: 'table' | 'cymru' | 'user-db' | 'none';
}

/** The ASN port of the core. Never rejects: unknown is {@link NO_OWNER}. */
export interface AsnPort {
  lookup(ip: string): Promise<IpOwner>;
}

/** The answer for an address nobody is known to own. */
export const NO_OWNER: Readonly<IpOwner> = Object.freeze({
  asn: null,
  org: '',
  prefix: '',
  source: 'none',
});

/** A fresh copy of {@link NO_OWNER}, for callers that may mutate it. */
export function noOwner(): IpOwner {
  return { ...NO_OWNER };
}

/** Longest organisation string kept, in UTF-16 code units. */
export const MAX_ORG_LENGTH = 128;

// C0, DEL, C1, and the bidirectional overrides that can reorder a terminal line.
const UNSAFE_CHARS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes untrusted organisation text (DNS TXT, a user's file) safe to print:
 * control and bidi-override characters removed, whitespace collapsed, cut to
 * {@link MAX_ORG_LENGTH} without splitting a surrogate pair.
 */
export function sanitizeOrg(text: string): string {
  let out = text.replace(UNSAFE_CHARS, ' ').replace(/\s+/g, ' ').trim();
  if (out.length > MAX_ORG_LENGTH) {
    out = out.slice(0, MAX_ORG_LENGTH);
    const last = out.charCodeAt(out.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
    out = out.trimEnd();
  }
  return out;
}
