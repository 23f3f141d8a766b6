/**
 * The layout of an input, read from its first row: a header naming the
 * domain column, a plain list, or data whose domain column is found by its
 * content.
 */
import { normaliseDomain } from '../../core/normalise-domain.js';
import {
  KNOWN_HEADERS,
  fuzzyHeaderColumn,
  headerKey,
  knownHeaderColumn,
} from './header-match.js';
import { InputError } from './input-error.js';

/** Which cells are the columns, and which of them holds the domains. */
export interface Layout {
  /** The column names; `['input']` for a plain list. */
  header: string[];
  /** Index into `header` and each row's fields of the domain cell. */
  domainColumn: number;
  /** False when the first line is already data. */
  hasHeader: boolean;
}

/**
 * Reads the first row as a header or as data. A header names the domain
 * column (`--column`, else the first known name, else a name that mentions a
 * domain, URL, e-mail or host); a single column without one
 * is a plain list; several columns without one take the first cell that is a
 * domain as the domain column, and are refused when no cell is.
 */
export function chooseLayout(
  cells: string[],
  column: string | undefined,
  name: string,
): Layout {
  const keys = cells.map(headerKey);
  if (column !== undefined) {
    const index = keys.indexOf(headerKey(column));
    if (index === -1) {
      throw new InputError(
        'EXO_INPUT_NO_DOMAIN_COLUMN',
        `${name}: no column named '${column}'; the header is ${listCells(cells)}`,
      );
    }
    return { header: cells, domainColumn: index, hasHeader: true };
  }
  const known = knownHeaderColumn(keys);
  if (known !== -1) {
    return { header: cells, domainColumn: known, hasHeader: true };
  }
  const fuzzy = fuzzyHeaderColumn(cells, keys);
  if (fuzzy !== -1) {
    return { header: cells, domainColumn: fuzzy, hasHeader: true };
  }
  if (cells.length === 1) {
    return { header: ['input'], domainColumn: 0, hasHeader: false };
  }
  const index = cells.findIndex((cell) => normaliseDomain(cell).ok);
  if (index === -1) {
    throw new InputError(
      'EXO_INPUT_NO_DOMAIN_COLUMN',
      `${name}: cannot tell which column holds the domains: the first row ${listCells(cells)} names none of ${KNOWN_HEADERS.join('/')} and holds no domain; pass --column NAME`,
    );
  }
  return {
    header: cells.map((_, k) => (k === index ? 'input' : `column_${k + 1}`)),
    domainColumn: index,
    hasHeader: false,
  };
}

/** Cells for a message: at most 8, each flattened and cut to 30 characters. */
function listCells(cells: string[]): string {
  const shown = cells.slice(0, 8).map((cell) => {
    const flat = cell.replace(/\s+/g, ' ').trim();
    return `'${flat.length > 30 ? `${flat.slice(0, 30)}…` : flat}'`;
  });
  return shown.join(', ') + (cells.length > 8 ? ', …' : '');
}
