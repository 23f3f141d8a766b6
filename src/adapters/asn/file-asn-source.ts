/**
 * An IP-to-ASN file given with `--asn-db`: CSV as in `@ip-location-db/asn`
 * or TSV as from iptoasn.com, optionally gzip-compressed.
 */
import { basename } from 'node:path';
import { AsnTableBuilder } from '../../core/asn-table.js';
import type { AsnTable } from '../../core/asn-table.js';
import { AsnFileParser, LineError, readAsnData } from './asn-file-parser.js';
import type { NumericFamily } from './asn-file-parser.js';
import { LoadedSource } from './loaded-asn-source.js';
import type { LoadableAsnPort } from './loaded-asn-source.js';

/** Stable codes of {@link AsnSourceError}. */
export type AsnSourceErrorCode = 'EXO_ASN_DB';

/** A user's ASN database could not be read or parsed. */
export class AsnSourceError extends Error {
  override readonly name = 'AsnSourceError';
  readonly code: AsnSourceErrorCode = 'EXO_ASN_DB';
  /** The file concerned. */
  readonly path: string;
  /** 1-based line of a parse error, when there is one. */
  readonly line: number | undefined;

  constructor(
    message: string,
    path: string,
    options: { cause?: unknown; line?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.path = path;
    this.line = options.line;
  }
}

function familyFromName(path: string): NumericFamily {
  const name = basename(path).toLowerCase();
  if (name.includes('ipv6')) return 'v6';
  if (name.includes('ipv4')) return 'v4';
  return 'auto';
}

/**
 * An IP-to-ASN file given with `--asn-db FILE`, optionally gzip-compressed
 * (detected by its magic bytes, so `.gz` or not). Two formats, told apart by
 * the first data line:
 *
 * - CSV as in `@ip-location-db/asn`:
 *   `ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization`,
 *   inclusive ranges, no header, the organisation RFC 4180-quoted when it holds
 *   a comma. Bounds are addresses (IPv4 and IPv6 rows may be mixed) or decimal
 *   integers as in the `-num` files; integers are IPv6 when the file name
 *   contains `ipv6`, IPv4 when it contains `ipv4`, else IPv6 when the end
 *   exceeds 2^32-1.
 * - TSV as from iptoasn.com (`ip2asn-v4.tsv`, `ip2asn-v6.tsv`,
 *   `ip2asn-combined.tsv`):
 *   `range_start\trange_end\tAS_number\tcountry_code\tAS_description`; rows
 *   with AS 0 (not routed) are skipped.
 *
 * Blank lines, `#` comments and one header line are ignored; overlapping
 * ranges resolve to the more specific one. Owners have source `user-db`.
 * Any read or parse error rejects {@link LoadableAsnPort.load} with
 * {@link AsnSourceError} (`EXO_ASN_DB`); a lookup after a failed load answers
 * `none`.
 */
export function createFileAsnSource(path: string): LoadableAsnPort {
  const loadTable = async (): Promise<AsnTable> => {
    let data: Buffer;
    try {
      data = await readAsnData(path);
    } catch (err) {
      throw new AsnSourceError(
        `cannot read ASN database ${path}: ${(err as Error).message}`,
        path,
        { cause: err },
      );
    }
    const builder = new AsnTableBuilder('user-db');
    try {
      new AsnFileParser(data, builder, familyFromName(path)).parse();
    } catch (err) {
      const line = err instanceof LineError ? err.line : undefined;
      throw new AsnSourceError(
        `ASN database ${path}${line ? ` line ${line}` : ''}: ${(err as Error).message}`,
        path,
        line === undefined ? { cause: err } : { cause: err, line },
      );
    }
    const table = builder.build();
    if (table.size === 0) {
      throw new AsnSourceError(`ASN database ${path} has no ranges`, path);
    }
    return table;
  };
  return new LoadedSource(loadTable, (err) => (err as Error).message, true);
}
