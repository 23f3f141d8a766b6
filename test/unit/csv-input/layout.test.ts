import { describe, expect, it } from 'vitest';
import { chooseLayout } from '../../../src/adapters/csv-input/layout.js';
import type { Layout } from '../../../src/adapters/csv-input/layout.js';
import { InputError } from '../../../src/adapters/csv-input/input-error.js';

describe('chooseLayout', () => {
  const cases: [string, string[], string | undefined, Layout][] = [
    [
      'a known header',
      ['client', 'group', 'domain'],
      undefined,
      {
        header: ['client', 'group', 'domain'],
        domainColumn: 2,
        hasHeader: true,
      },
    ],
    [
      '--column, trimmed and in any case',
      ['Client', ' Mail Domain ', 'Website'],
      'mail_domain',
      {
        header: ['Client', ' Mail Domain ', 'Website'],
        domainColumn: 1,
        hasHeader: true,
      },
    ],
    [
      '--column over a known name',
      ['domain', 'backup'],
      'Backup',
      { header: ['domain', 'backup'], domainColumn: 1, hasHeader: true },
    ],
    [
      'a header that mentions a domain',
      ['Kunde', 'Client Domain'],
      undefined,
      { header: ['Kunde', 'Client Domain'], domainColumn: 1, hasHeader: true },
    ],
    [
      'a plain list: its first line is data',
      ['example.com'],
      undefined,
      { header: ['input'], domainColumn: 0, hasHeader: false },
    ],
    [
      'a one-column list of anything',
      ['client list'],
      undefined,
      { header: ['input'], domainColumn: 0, hasHeader: false },
    ],
    [
      'a single cell that mentions a domain is a header',
      ['not a domain'],
      undefined,
      { header: ['not a domain'], domainColumn: 0, hasHeader: true },
    ],
    [
      'data without a header: the first cell that is a domain',
      ['Contoso', 'north', 'contoso.com', 'backup.com'],
      undefined,
      {
        header: ['column_1', 'column_2', 'input', 'column_4'],
        domainColumn: 2,
        hasHeader: false,
      },
    ],
    [
      'data with a URL and an e-mail address',
      ['Fabrikam', 'https://www.fabrikam.com/x', 'a@b.com'],
      undefined,
      {
        header: ['column_1', 'input', 'column_3'],
        domainColumn: 1,
        hasHeader: false,
      },
    ],
  ];
  it.each(cases)('%s', (_name, cells, column, layout) => {
    expect(chooseLayout(cells, column, 'in.csv')).toEqual(layout);
  });

  const refused: [string, string[], string | undefined][] = [
    ['no column of that name', ['client', 'domain'], 'website'],
    ['no name and no domain', ['client', 'group', 'notes'], undefined],
    ['numbers only', ['1', '2'], undefined],
  ];
  it.each(refused)(
    '%s → EXO_INPUT_NO_DOMAIN_COLUMN',
    (_name, cells, column) => {
      let err: unknown;
      try {
        chooseLayout(cells, column, 'in.csv');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect(err).toMatchObject({ code: 'EXO_INPUT_NO_DOMAIN_COLUMN' });
    },
  );

  it('shows at most 8 cells of the row, each cut to 30 characters', () => {
    const cells = Array.from(
      { length: 10 },
      (_, i) => `note ${i} ${'x'.repeat(40)}`,
    );
    expect(() => chooseLayout(cells, undefined, 'in.csv')).toThrow(
      /the first row 'note 0 x{23}…', .*'note 7 x{23}…', … names none/,
    );
  });
});
