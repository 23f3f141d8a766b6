/**
 * The input side of a run: streams the rows of a CSV file (or stdin) with
 * csv-parse, after checking that the bytes are text in an encoding we can
 * read and deciding which column holds the domains. Memory stays flat however
 * long the file: rows are pulled one at a time through an async iterator.
 */
import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { CsvError, parse } from 'csv-parse';
import type { InfoRecord, Options } from 'csv-parse';
import { normaliseDomain } from '../core/normalise-domain.js';

/** A field delimiter exoscope reads. */
export type Delimiter = ',' | ';' | '\t';

/** Where to read from and how. */
export interface SourceOptions {
  /** A file path, or `-` for stdin. */
  path: string;
  /**
   * The header of the domain column (`--column NAME`), matched trimmed and
   * case-insensitively. Default: the first of the known names (domain,
   * website, url, email, host, ...) present in the header.
   */
  column?: string;
  /** Default: sniffed from the first non-blank, non-comment line. */
  delimiter?: Delimiter;
  /** The stream read for `-`. Default: `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
}

/** One data row of the input. */
export interface InputRow {
  /** 0-based index among data rows (header, blank and comment lines excluded). */
  index: number;
  /** 1-based line of the file where the row starts, for messages. */
  line: number;
  /** The raw domain cell; '' when the row is too short to have one. */
  value: string;
  /** Every cell of the row, unchanged and unpadded, in file order. */
  fields: string[];
}

/** An opened input: its layout, and its rows as a single-use stream. */
export interface InputSource {
  /** The column names; `['input']` for a plain list. */
  header: string[];
  /** Index into `header` and each row's `fields` of the domain cell. */
  domainColumn: number;
  /** False when the first line is already data. */
  hasHeader: boolean;
  /**
   * The input's field delimiter, as the output's default: the one given or
   * sniffed when the first row has two or more non-empty cells; `,` for a
   * list (one cell a line, stray delimiters at the ends aside).
   */
  delimiter: Delimiter;
  /**
   * The data rows, in file order. Iterate once. Rejects with an
   * {@link InputError} on malformed CSV, bad encoding or a read failure.
   */
  rows: AsyncIterable<InputRow>;
  /**
   * Lines skipped so far: blank (every cell empty or white space) and comment
   * (first cell starts with `#`). Final once `rows` is exhausted.
   */
  skipped: { blank: number; comment: number };
  /**
   * Stops reading at once: the input is closed, and a read waiting on a
   * pipe ends. `rows` then ends with an {@link InputError}, which a caller
   * that closed it ignores.
   */
  close(): void;
}

/** The ways reading the input can fail; stable, for tests and exit codes. */
export type InputErrorCode =
  | 'EXO_INPUT_NOT_FOUND'
  | 'EXO_INPUT_IS_DIRECTORY'
  | 'EXO_INPUT_UNREADABLE'
  | 'EXO_INPUT_EMPTY'
  | 'EXO_INPUT_ENCODING'
  | 'EXO_INPUT_BINARY'
  | 'EXO_INPUT_NO_DOMAIN_COLUMN'
  | 'EXO_INPUT_CSV';

/** A problem with the input file as a whole: the run cannot start or go on. */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly code: InputErrorCode;
  /** The 1-based line the problem is on, when one can be named. */
  readonly line: number | undefined;

  constructor(
    code: InputErrorCode,
    /** One line, naming the path. */
    message: string,
    options: { cause?: unknown; line?: number } = {},
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.line = options.line;
  }
}

/**
 * Header cells that name the domain column, in order of preference. Cells are
 * compared trimmed, lower-cased, with runs of white space or `_` as one space.
 */
const KNOWN_HEADERS = [
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

/** File types people export by mistake, recognised by their first bytes. */
const BINARY_SIGNATURES = [
  {
    magic: [0x50, 0x4b, 0x03, 0x04],
    what: 'a ZIP archive (an .xlsx workbook?)',
  },
  { magic: [0xd0, 0xcf, 0x11, 0xe0], what: 'an Excel .xls workbook' },
  { magic: [0x1f, 0x8b], what: 'a gzip-compressed file' },
  { magic: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
] as const;

const PEEK_BYTES = 64 * 1024;
/** Enough for the byte-order marks and file signatures `detectEncoding` checks. */
const MIN_PEEK_BYTES = 8;
const EMPTY = Buffer.alloc(0);
const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];

type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/**
 * Opens the input, checks its encoding, sniffs the delimiter and reads the
 * first row to settle the layout; the remaining rows stream through `rows`.
 *
 * @throws {InputError} when the file is missing, unreadable, empty, binary,
 * not UTF-8/UTF-16, or has no recognisable domain column.
 */
export async function openSource(options: SourceOptions): Promise<InputSource> {
  const name = options.path === '-' ? 'stdin' : options.path;
  const input =
    options.path === '-'
      ? (options.stdin ?? process.stdin)
      : await openFile(options.path);
  const text = await readText(input, name);
  const delimiter =
    options.delimiter ?? sniffDelimiter(text.head.toString('utf8'));
  const records = parseRecords(text.bytes, delimiter, name);

  let first: ParsedRow | undefined;
  let layout: Layout;
  try {
    first = await records.next();
    if (first === undefined) {
      throw new InputError(
        'EXO_INPUT_EMPTY',
        `${name}: no rows (the input is empty, or only blank or comment lines)`,
      );
    }
    layout = chooseLayout(first.fields, options.column, name);
  } catch (err) {
    await records.close();
    throw err;
  }

  const { domainColumn } = layout;
  async function* rows(): AsyncGenerator<InputRow> {
    let index = 0;
    const toRow = ({ fields, line }: ParsedRow): InputRow => ({
      index: index++,
      line,
      value: fields[domainColumn] ?? '',
      fields,
    });
    try {
      if (!layout.hasHeader && first !== undefined) yield toRow(first);
      first = undefined;
      for (;;) {
        const row = await records.next();
        if (row === undefined) return;
        yield toRow(row);
      }
    } finally {
      await records.close();
    }
  }

  const cells = first.fields.filter((cell) => cell.trim() !== '').length;
  return {
    ...layout,
    delimiter: options.delimiter ?? (cells > 1 ? delimiter : ','),
    rows: rows(),
    skipped: records.skipped,
    close: () => (input as Partial<Readable>).destroy?.(),
  };
}

/** The input as checked UTF-8: the first bytes already read, then the rest. */
interface DecodedInput {
  /** At least the first 64 KiB (or all) of the input, decoded and checked. */
  head: Buffer;
  /** All of the input, `head` first, decoded and checked as it is read. */
  bytes: AsyncIterable<Buffer>;
}

/**
 * Reads the first 64 KiB to decide the encoding and fail early on a binary,
 * empty or wrongly encoded input; the rest is decoded as it streams.
 */
async function readText(
  input: NodeJS.ReadableStream | Readable,
  name: string,
): Promise<DecodedInput> {
  const chunks: AsyncIterator<Buffer | string> = input[Symbol.asyncIterator]();
  const read = async (): Promise<Buffer | undefined> => {
    let result: IteratorResult<Buffer | string>;
    try {
      result = await chunks.next();
    } catch (cause) {
      throw new InputError(
        'EXO_INPUT_UNREADABLE',
        `${name}: read failed (${describe(cause)})`,
        { cause },
      );
    }
    if (result.done) return undefined;
    return typeof result.value === 'string'
      ? Buffer.from(result.value)
      : result.value;
  };

  let transcoder: Transcoder;
  let head: Buffer;
  let ended = false;
  try {
    const peeked: Buffer[] = [];
    let size = 0;
    while (size < PEEK_BYTES) {
      const chunk = await read();
      if (chunk === undefined) {
        ended = true;
        break;
      }
      peeked.push(chunk);
      size += chunk.length;
      // A pipe (stdin) delivers as its writer writes: start once the layout
      // can be decided rather than wait for 64 KiB that may come much later.
      if (
        size >= MIN_PEEK_BYTES &&
        (chunk.includes(0x0a) || chunk.includes(0x0d)) &&
        holdsFirstRecord(peeked)
      ) {
        break;
      }
    }
    const peek = Buffer.concat(peeked);
    transcoder = new Transcoder(name, detectEncoding(peek, name));
    head = transcoder.write(peek);
    if (ended) head = Buffer.concat([head, transcoder.end()]);
  } catch (err) {
    await chunks.return?.();
    throw err;
  }

  async function* bytes(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      if (ended) return;
      for (;;) {
        const chunk = await read();
        if (chunk === undefined) break;
        const text = transcoder.write(chunk);
        if (text.length > 0) yield text;
      }
      const tail = transcoder.end();
      if (tail.length > 0) yield tail;
    } finally {
      await chunks.return?.();
    }
  }

  return { head, bytes: bytes() };
}

/** The non-blank, non-comment records of the input, pulled one at a time. */
interface Records {
  next(): Promise<ParsedRow | undefined>;
  /** Stops parsing and releases the input; safe to call more than once. */
  close(): Promise<void>;
  skipped: { blank: number; comment: number };
}

function parseRecords(
  bytes: AsyncIterable<Buffer>,
  delimiter: Delimiter,
  name: string,
): Records {
  const skipped = { blank: 0, comment: 0 };
  const lines = new RecordLines();
  const options: Options<ParsedRow, RawRecord> = {
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    relax_quotes: true,
    comment: '#',
    comment_no_infix: true,
    raw: true,
    // Runs in parse order, before read-ahead buffering: the line count stays
    // exact even when a later error discards records not yet consumed.
    on_record: ({ record: fields, raw }: RawRecord, context: InfoRecord) => {
      const line = lines.record(raw, context.comment_lines);
      skipped.comment = context.comment_lines;
      if (fields.every((cell) => cell.trim() === '')) {
        skipped.blank++;
        return null;
      }
      return { fields, line };
    },
  };
  // csv-parse's overloads type records as string[]; on_record reshapes them.
  const parser = parse(options as unknown as Options);
  // Errors reach the consumer through the parser's iterator.
  pipeline(Readable.from(bytes, { objectMode: false }), parser, () => {});
  const records: AsyncIterator<ParsedRow> = parser[Symbol.asyncIterator]();

  return {
    skipped,
    async next() {
      let result: IteratorResult<ParsedRow>;
      try {
        result = await records.next();
      } catch (err) {
        throw asInputError(err, name, lines.next(parser.info.comment_lines));
      }
      if (result.done) {
        skipped.comment = parser.info.comment_lines;
        return undefined;
      }
      return result.value;
    },
    async close() {
      await records.return?.();
    },
  };
}

/** What csv-parse hands `on_record` with `raw: true`. */
interface RawRecord {
  record: string[];
  raw: string;
}

interface ParsedRow {
  fields: string[];
  line: number;
}

interface Layout {
  header: string[];
  domainColumn: number;
  hasHeader: boolean;
}

async function openFile(path: string): Promise<Readable> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw fileError(path, cause);
  }
  try {
    if ((await handle.stat()).isDirectory()) {
      throw new InputError(
        'EXO_INPUT_IS_DIRECTORY',
        `${path}: is a directory, not a CSV file`,
      );
    }
  } catch (err) {
    await handle.close();
    throw err instanceof InputError ? err : fileError(path, err);
  }
  return handle.createReadStream();
}

function fileError(path: string, cause: unknown): InputError {
  switch ((cause as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new InputError(
        'EXO_INPUT_NOT_FOUND',
        `${path}: no such file${isAbsolute(path) ? '' : ` in ${process.cwd()}`}; give the path of a CSV file or a list of domains (one a line), or - to read stdin`,
        { cause },
      );
    case 'EISDIR':
      return new InputError(
        'EXO_INPUT_IS_DIRECTORY',
        `${path}: is a directory, not a CSV file`,
        { cause },
      );
    case 'EACCES':
    case 'EPERM':
      return new InputError(
        'EXO_INPUT_UNREADABLE',
        `${path}: permission denied`,
        { cause },
      );
    default:
      return new InputError(
        'EXO_INPUT_UNREADABLE',
        `${path}: cannot be read (${describe(cause)})`,
        { cause },
      );
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Decides the encoding from the first bytes, or says why the file is not text. */
function detectEncoding(peek: Buffer, name: string): Encoding {
  if (peek.length === 0) {
    throw new InputError('EXO_INPUT_EMPTY', `${name}: the input is empty`);
  }
  if (
    startsWith(peek, [0xff, 0xfe, 0, 0]) ||
    startsWith(peek, [0, 0, 0xfe, 0xff])
  ) {
    throw new InputError(
      'EXO_INPUT_ENCODING',
      `${name}: is UTF-32 text; save it as UTF-8`,
    );
  }
  if (startsWith(peek, [0xff, 0xfe])) return 'utf-16le';
  if (startsWith(peek, [0xfe, 0xff])) return 'utf-16be';
  for (const { magic, what } of BINARY_SIGNATURES) {
    if (startsWith(peek, magic)) {
      throw new InputError(
        'EXO_INPUT_BINARY',
        `${name}: looks like ${what}, not CSV text; export it as CSV (UTF-8)`,
      );
    }
  }
  const utf16 = peek.includes(0) ? guessUtf16(peek) : undefined;
  if (utf16 !== undefined) {
    throw new InputError(
      'EXO_INPUT_ENCODING',
      `${name}: looks like ${utf16.toUpperCase()} text without a byte-order mark; save it as UTF-8`,
    );
  }
  // Other NUL bytes and invalid UTF-8 are reported, with their line, by the
  // Transcoder as it reads the peeked bytes.
  return 'utf-8';
}

function startsWith(buf: Buffer, magic: readonly number[]): boolean {
  return magic.every((byte, i) => buf[i] === byte);
}

/** ASCII-range text in UTF-16 has a NUL in every other byte. */
function guessUtf16(peek: Buffer): Encoding | undefined {
  const n = Math.min(peek.length, 4096) & ~1;
  if (n < 4) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i++) {
    if (peek[i] === 0) {
      if (i % 2 === 0) evenNul++;
      else oddNul++;
    }
  }
  const pairs = n / 2;
  if (oddNul > pairs * 0.7 && evenNul < pairs * 0.1) return 'utf-16le';
  if (evenNul > pairs * 0.7 && oddNul < pairs * 0.1) return 'utf-16be';
  return undefined;
}

/**
 * Turns the input's bytes into checked UTF-8 for csv-parse: strips a UTF-8
 * BOM, decodes UTF-16, and fails with the line number on a NUL byte or on
 * bytes that are not valid in the encoding, so no garbage reaches a row.
 */
class Transcoder {
  private readonly lines = new LineCounter();
  private readonly utf16: TextDecoder | undefined;
  private carry: Buffer = EMPTY;
  private started = false;

  constructor(
    private readonly name: string,
    private readonly encoding: Encoding,
  ) {
    this.utf16 =
      encoding === 'utf-8'
        ? undefined
        : new TextDecoder(encoding, { fatal: true });
  }

  write(chunk: Buffer): Buffer {
    if (this.utf16 !== undefined) return this.decodeUtf16(chunk, true);
    let block = chunk;
    if (!this.started) {
      this.started = true;
      if (startsWith(block, [0xef, 0xbb, 0xbf])) block = block.subarray(3);
    }
    if (this.carry.length > 0) block = Buffer.concat([this.carry, block]);
    const cut = completeUtf8Length(block);
    this.carry = Buffer.from(block.subarray(cut));
    return this.checked(block.subarray(0, cut), true);
  }

  end(): Buffer {
    if (this.utf16 !== undefined) return this.decodeUtf16(EMPTY, false);
    const rest = this.carry;
    this.carry = EMPTY;
    return this.checked(rest, true);
  }

  private decodeUtf16(chunk: Buffer, stream: boolean): Buffer {
    let text: string;
    try {
      text = (this.utf16 as TextDecoder).decode(chunk, { stream });
    } catch (cause) {
      const line = this.lines.line;
      throw new InputError(
        'EXO_INPUT_ENCODING',
        `${this.name}: line ${line}: invalid ${this.encoding.toUpperCase()} text`,
        { cause, line },
      );
    }
    return this.checked(Buffer.from(text, 'utf8'), false);
  }

  private checked(block: Buffer, validate: boolean): Buffer {
    const nul = block.indexOf(0);
    if (nul !== -1) {
      const line = this.lines.lineAt(block, nul);
      throw new InputError(
        'EXO_INPUT_BINARY',
        `${this.name}: line ${line} contains a NUL byte; this looks like a binary file, not CSV text`,
        { line },
      );
    }
    if (validate && !isUtf8(block)) {
      const line = this.lines.lineAt(block, firstInvalidLine(block));
      throw new InputError(
        'EXO_INPUT_ENCODING',
        `${this.name}: line ${line} is not valid UTF-8 (Latin-1 or Windows-1252?); save the file as CSV UTF-8`,
        { line },
      );
    }
    this.lines.advance(block);
    return block;
  }
}

/**
 * The length of the longest prefix of `buf` that does not end inside a UTF-8
 * sequence; the rest waits for the next chunk.
 */
function completeUtf8Length(buf: Buffer): number {
  for (let i = buf.length - 1; i >= 0 && i >= buf.length - 4; i--) {
    const byte = buf[i] as number;
    if (byte < 0x80) return buf.length;
    if (byte >= 0xc0) {
      const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return buf.length - i < size ? i : buf.length;
    }
  }
  return buf.length;
}

/** The offset of the start of the first line holding invalid UTF-8. */
function firstInvalidLine(block: Buffer): number {
  let start = 0;
  for (let i = 0; i <= block.length; i++) {
    if (i === block.length || block[i] === 0x0a || block[i] === 0x0d) {
      if (!isUtf8(block.subarray(start, i))) return start;
      start = i + 1;
    }
  }
  return 0;
}

/** What `lineBreaks` needs: both strings and Buffers qualify. */
interface Searchable {
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
function lineBreaks(text: Searchable, to: number): number {
  return (
    occurrences(text, '\n', to) +
    occurrences(text, '\r', to) -
    occurrences(text, '\r\n', to)
  );
}

/** Counts lines across chunks, a CRLF split between two chunks counting once. */
class LineCounter {
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
class RecordLines {
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

/**
 * Picks the delimiter from the first non-blank, non-comment record: the one
 * of `,` `;` tab that occurs most often outside quotes; `,` when none does.
 */
function sniffDelimiter(text: string): Delimiter {
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

/** Where the first non-blank, non-comment record is; its end is a line break or the text's end. */
function firstRecord(text: string): { start: number; end: number } | undefined {
  let pos = 0;
  while (pos < text.length) {
    let end = pos;
    if (text[pos] === '#') {
      while (end < text.length && text[end] !== '\n' && text[end] !== '\r') {
        end++;
      }
    } else {
      let quoted = false;
      for (; end < text.length; end++) {
        const char = text[end];
        if (char === '"') quoted = !quoted;
        else if (!quoted && (char === '\n' || char === '\r')) break;
      }
      if (text.slice(pos, end).trim() !== '') return { start: pos, end };
    }
    pos = end + 1;
  }
  return undefined;
}

/**
 * Whether the bytes read so far hold a complete first record, so that the
 * delimiter can be sniffed and the layout chosen. Only for input that looks
 * like UTF-8: a byte-order mark or NUL bytes make `detectEncoding` want more.
 */
function holdsFirstRecord(chunks: readonly Buffer[]): boolean {
  const bytes = Buffer.concat(chunks);
  if (bytes.includes(0) || startsWith(bytes, [0xff, 0xfe])) return false;
  if (startsWith(bytes, [0xfe, 0xff])) return false;
  const text = bytes.toString('utf8');
  const record = firstRecord(text);
  return record !== undefined && record.end < text.length;
}

function headerKey(cell: string): string {
  return cell
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, ' ');
}

function listCells(cells: string[]): string {
  const shown = cells.slice(0, 8).map((cell) => {
    const flat = cell.replace(/\s+/g, ' ').trim();
    return `'${flat.length > 30 ? `${flat.slice(0, 30)}…` : flat}'`;
  });
  return shown.join(', ') + (cells.length > 8 ? ', …' : '');
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
function fuzzyHeaderColumn(cells: string[], keys: string[]): number {
  if (cells.some((cell) => normaliseDomain(cell).ok)) return -1;
  for (const pattern of FUZZY_HEADERS) {
    const index = keys.findIndex(
      (key) => pattern.test(key) && !/[.@:]/.test(key),
    );
    if (index !== -1) return index;
  }
  return -1;
}

/**
 * Reads the first row as a header or as data. A header names the domain
 * column (`--column`, else the first known name, else a name that mentions a
 * domain, URL, e-mail or host); a single column without one
 * is a plain list; several columns without one take the first cell that is a
 * domain as the domain column, and are refused when no cell is.
 */
function chooseLayout(
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
  for (const known of KNOWN_HEADERS) {
    const index = keys.indexOf(known);
    if (index !== -1)
      return { header: cells, domainColumn: index, hasHeader: true };
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

/** Phrases for the csv-parse errors a domain list can plausibly hit. */
const CSV_PROBLEMS: Partial<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by other text',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE:
    'a closing quote is followed by other text',
  CSV_MAX_RECORD_SIZE:
    'a record is too long (a wrong delimiter or an unclosed quote?)',
};

function asInputError(err: unknown, name: string, line: number): InputError {
  if (err instanceof InputError) return err;
  if (err instanceof CsvError) {
    const problem = CSV_PROBLEMS[err.code] ?? err.message;
    return new InputError(
      'EXO_INPUT_CSV',
      `${name}: line ${line}: malformed CSV: ${problem}`,
      { cause: err, line },
    );
  }
  return new InputError(
    'EXO_INPUT_UNREADABLE',
    `${name}: read failed (${describe(err)})`,
    { cause: err },
  );
}
