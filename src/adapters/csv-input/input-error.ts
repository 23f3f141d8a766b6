/**
 * The one error class of the input side, with its stable codes, and the
 * translation of csv-parse's errors into it.
 */
import { CsvError } from 'csv-parse';

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

/** Phrases for the csv-parse errors a domain list can plausibly hit. */
const CSV_PROBLEMS: Partial<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by other text',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE:
    'a closing quote is followed by other text',
  CSV_MAX_RECORD_SIZE:
    'a record is too long (a wrong delimiter or an unclosed quote?)',
};

/**
 * An error met while parsing, as an {@link InputError} naming the input and
 * the line: malformed CSV (`EXO_INPUT_CSV`) or a failed read.
 */
export function asInputError(
  err: unknown,
  name: string,
  line: number,
): InputError {
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
    `${name}: read failed (${describeError(err)})`,
    { cause: err },
  );
}

/** The message of an error, or the thrown value as text. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
