import { CsvError } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import {
  InputError,
  asInputError,
} from '../../../src/adapters/csv-input/input-error.js';

describe('asInputError', () => {
  it.each([
    ['CSV_QUOTE_NOT_CLOSED', 'a quoted field is never closed'],
    ['CSV_INVALID_CLOSING_QUOTE', 'a closing quote is followed by other text'],
    ['CSV_MAX_RECORD_SIZE', 'a record is too long'],
  ] as const)('%s → EXO_INPUT_CSV with the line', (code, phrase) => {
    const cause = new CsvError(code, 'parser text');
    const err = asInputError(cause, 'in.csv', 7);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'EXO_INPUT_CSV', line: 7, cause });
    expect(err.message).toContain(phrase);
    expect(err.message).toMatch(/^in\.csv: line 7: malformed CSV: /);
  });

  it('keeps csv-parse’s own text for other problems', () => {
    const cause = new CsvError('CSV_RECORD_INCONSISTENT_COLUMNS', 'its text');
    expect(asInputError(cause, 'in.csv', 2).message).toBe(
      'in.csv: line 2: malformed CSV: its text',
    );
  });

  it('passes an InputError through', () => {
    const own = new InputError('EXO_INPUT_BINARY', 'in.csv: NUL');
    expect(asInputError(own, 'in.csv', 3)).toBe(own);
  });

  it.each([new Error('EIO: i/o error'), 'a thrown string'])(
    'reads anything else as a failed read: %s',
    (cause) => {
      const err = asInputError(cause, 'stdin', 1);
      expect(err).toMatchObject({ code: 'EXO_INPUT_UNREADABLE', cause });
      expect(err.line).toBeUndefined();
    },
  );
});
