/**
 * The field delimiters exoscope reads, and the sniffing of the one a file
 * uses from its first record.
 */
import { firstRecord } from './first-record.js';

/** A field delimiter exoscope reads. */
export type Delimiter = ',' | ';' | '\t';

const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];

/**
 * Picks the delimiter from the first non-blank, non-comment record: the one
 * of `,` `;` tab that occurs most often outside quotes; `,` when none does.
 */
export function sniffDelimiter(text: string): Delimiter {
  const line = firstRecordText(text);
  let best: Delimiter = ',';
  let bestCount = 0;
  for (const delimiter of DELIMITERS) {
    let count = 0;
    let quoted = false;
    for (const char of line) {
      if (char === '"') quoted = !quoted;
      else if (char === delimiter && !quoted) count++;
    }
    if (count > bestCount) {
      best = delimiter;
      bestCount = count;
    }
  }
  return best;
}

function firstRecordText(text: string): string {
  const record = firstRecord(text);
  return record === undefined ? '' : text.slice(record.start, record.end);
}
