/**
 * Which header cell names the domain column: the known names, then names
 * that mention a domain, URL, e-mail or host.
 */
import { normaliseDomain } from '../../core/normalise-domain.js';

/**
 * Header cells that name the domain column, in order of preference. Cells are
 * compared trimmed, lower-cased, with runs of white space or `_` as one space.
 */
export const KNOWN_HEADERS = [
  'domain',
  'domains',
  'domain name',
  'domainname',
  'website',
  'web',
  'url',
  'homepage',
  'email',
  'e-mail',
  'mail',
  'host',
  'hostname',
  'fqdn',
] as const;

/**
 * A header cell as it is compared: trimmed, lower-cased, runs of white space
 * or `_` as one space.
 */
export function headerKey(cell: string): string {
  return cell
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, ' ');
}

/** The first of {@link KNOWN_HEADERS} among header keys, or -1. */
export function knownHeaderColumn(keys: readonly string[]): number {
  for (const known of KNOWN_HEADERS) {
    const index = keys.indexOf(known);
    if (index !== -1) return index;
  }
  return -1;
}

/**
 * Header names that mention a domain column without being one of
 * {@link KNOWN_HEADERS} (`Client Domain`, `Website URL`, `E-Mail Adresse`),
 * in order of preference. Matched against {@link headerKey}.
 */
const FUZZY_HEADERS: readonly RegExp[] = [
  /domain/,
  /website|web site|homepage|\burl\b|\bweb\b/,
  /e-?mail|\bmail\b/,
  /\bhost ?(name)?s?\b|\bfqdn\b/,
];

/**
 * The column a first row names in words, when the row reads as a header: no
 * cell is a domain, and the naming cell holds no `.`, `@` or `:` (which a
 * data entry such as `mailto:x` or `www.x` would). -1 when there is none.
 */
export function fuzzyHeaderColumn(cells: string[], keys: string[]): number {
  if (cells.some((cell) => normaliseDomain(cell).ok)) return -1;
  for (const pattern of FUZZY_HEADERS) {
    const index = keys.findIndex(
      (key) => pattern.test(key) && !/[.@:]/.test(key),
    );
    if (index !== -1) return index;
  }
  return -1;
}
