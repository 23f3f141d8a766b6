import { classify } from './classify.js';
import type { Verdict } from './classify.js';
import { emptyEvidence } from './evidence.js';
import type { Evidence } from './evidence.js';
import { normaliseDomain } from './normalise-domain.js';
import { scanDomain } from './scan-domain.js';
import type { ScanDeps, ScanLimits } from './scan-domain.js';

/** One input row as the core receives it: no file or queue details. */
export interface RowInput {
  /** 0-based data-row index: the output order. */
  index: number;
  /** The raw domain cell. */
  value: string;
  /** Every input cell, carried through unchanged. */
  fields: string[];
}

/** One output row: the input, the normalised domain, the verdict and its evidence. */
export interface RowReport {
  index: number;
  fields: string[];
  input: string;
  /** The normalised (ASCII) domain; '' when the input is invalid. */
  domain: string;
  /** Normalisation flags (from-url, idn, subdomain, ...) and the invalid reason. */
  flags: string[];
  verdict: Verdict;
  status: Evidence['status'];
  error: string;
  /** Null for an invalid input: nothing was asked. */
  evidence: Evidence | null;
  /** When the scan of this row finished (ms since the epoch). */
  scannedAt: number;
}

/** Scans one domain, possibly shared by several rows (duplicates). */
export type DomainScanner = (domain: string) => Promise<Evidence>;

/** The scan of a single domain, with the deps and limits bound. */
export function domainScanner(
  deps: ScanDeps,
  limits?: ScanLimits,
): DomainScanner {
  return (domain) => scanDomain(domain, deps, limits);
}

/**
 * Turns one input row into its report: normalise, scan (unless invalid),
 * classify. Never rejects: an unexpected error becomes an `error` row.
 */
export async function reportRow(
  row: RowInput,
  scan: DomainScanner,
  now: () => number,
): Promise<RowReport> {
  const n = normaliseDomain(row.value);
  if (!n.ok) {
    const evidence = emptyEvidence('', 'invalid', n.detail);
    return {
      index: row.index,
      fields: row.fields,
      input: row.value,
      domain: '',
      flags: [`invalid-${n.reason}`],
      verdict: classify(evidence),
      status: 'invalid',
      error: n.detail,
      evidence: null,
      scannedAt: now(),
    };
  }
  let evidence: Evidence;
  try {
    evidence = await scan(n.domain);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    evidence = emptyEvidence(n.domain, 'error', `internal error: ${message}`);
  }
  return {
    index: row.index,
    fields: row.fields,
    input: row.value,
    domain: n.domain,
    flags: n.flags,
    verdict: classify(evidence),
    status: evidence.status,
    error: evidence.error || evidence.failures.join('; '),
    evidence,
    scannedAt: now(),
  };
}
