/**
 * Line numbers for messages: a line break is CRLF, LF or a lone CR, counted
 * across chunks and across the raw text of parsed records.
 */

/** What `lineBreaks` needs: both strings and Buffers qualify. */
export interface Searchable {
  readonly length: number;
  indexOf(needle: string, from?: number): number;
}

function occurrences(text: Searchable, needle: string, to: number): number {
  let n = 0;
  for (
    let i = text.indexOf(needle, 0);
    i !== -1 && i + needle.length <= to;
    i = text.indexOf(needle, i + needle.length)
  ) {
    n++;
  }
  return n;
}

/** Line breaks (CRLF, LF or a lone CR) in `text[0, to)`. */
export function lineBreaks(text: Searchable, to: number): number {
  return (
    occurrences(text, '\n', to) +
    occurrences(text, '\r', to) -
    occurrences(text, '\r\n', to)
  );
}

/** Counts lines across chunks, a CRLF split between two chunks counting once. */
export class LineCounter {
  /** The 1-based line at the end of the text seen so far. */
  line = 1;
  private endsWithCr = false;

  /** The line of the byte at `offset` in the next chunk. */
  lineAt(chunk: Searchable, offset: number): number {
    const split = this.endsWithCr && offset > 0 && chunk.indexOf('\n') === 0;
    return this.line + lineBreaks(chunk, offset) - (split ? 1 : 0);
  }

  advance(chunk: Searchable): void {
    if (chunk.length === 0) return;
    this.line = this.lineAt(chunk, chunk.length);
    this.endsWithCr = chunk.indexOf('\r', chunk.length - 1) !== -1;
  }
}

/**
 * Where each parsed record starts. csv-parse's own `info.lines` counts a CRLF
 * inside a quoted field twice, so lines are counted from each record's raw
 * text, which begins with any comment lines skipped before it.
 */
export class RecordLines {
  private consumed = 0;
  private comments = 0;

  /** The start line of a record, given its raw text and the comment total. */
  record(raw: string, commentTotal: number): number {
    const line = this.next(commentTotal);
    this.comments = commentTotal;
    this.consumed += lineBreaks(raw, raw.length);
    return line;
  }

  /** The start line of the record being parsed now. */
  next(commentTotal: number): number {
    return this.consumed + 1 + (commentTotal - this.comments);
  }
}
