/**
 * The input side of a run: streams the rows of a CSV file (or stdin) with
 * csv-parse, after checking that the bytes are text in an encoding we can
 * read and deciding which column holds the domains. Memory stays flat however
 * long the file: rows are pulled one at a time through an async iterator.
 * The decisions are pure functions in `csv-input/`; this file is the stream.
 */
import { open } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { InfoRecord, Options } from 'csv-parse';
import { sniffDelimiter } from './csv-input/delimiter.js';
import type { Delimiter } from './csv-input/delimiter.js';
import { detectEncoding } from './csv-input/encoding.js';
import { holdsFirstRecord } from './csv-input/first-record.js';
import {
  InputError,
  asInputError,
  describeError,
} from './csv-input/input-error.js';
import { chooseLayout } from './csv-input/layout.js';
import type { Layout } from './csv-input/layout.js';
import { RecordLines } from './csv-input/line-numbers.js';
import { Transcoder } from './csv-input/transcoder.js';

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

const PEEK_BYTES = 64 * 1024;
/** Enough for the byte-order marks and file signatures `detectEncoding` checks. */
const MIN_PEEK_BYTES = 8;

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
        `${name}: read failed (${describeError(cause)})`,
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
        `${path}: cannot be read (${describeError(cause)})`,
        { cause },
      );
  }
}
