import { describe, expect, it } from 'vitest';
import { sniffDelimiter } from '../../../src/adapters/csv-input/delimiter.js';
import type { Delimiter } from '../../../src/adapters/csv-input/delimiter.js';

describe('sniffDelimiter', () => {
  const cases: [string, string, Delimiter][] = [
    ['commas', 'client,group,domain\na,b,c.com\n', ','],
    ['semicolons (a German Excel export)', 'Kunde;Gruppe;Domain\n', ';'],
    ['tabs', 'client\tgroup\tdomain\n', '\t'],
    ['one column', 'domain\nexample.com\n', ','],
    ['nothing at all', '', ','],
    ['only blank and comment lines', '\n# a,b,c\n  \n', ','],
    ['the most frequent wins', 'a;b;c,d\n', ';'],
    ['a tie goes to the first of , ; tab', 'a,b;c\n', ','],
    ['a tie of ; and tab goes to ;', 'a;b\tc\n', ';'],
    ['commas inside quotes do not count', '"Müller, Hans";"a,b,c";x.de\n', ';'],
    ['semicolons inside quotes do not count', '"a;b;c",x.de,y\n', ','],
    ['tabs inside quotes do not count', '"a\tb\tc";x.de\n', ';'],
    ['escaped quotes keep the field quoted', '"say ""a,b,c""";x\n', ';'],
    [
      'a quoted field across lines belongs to the first record',
      '"note\nwith;;;;";x,y,z\n',
      ',',
    ],
    ['comment lines before the header are skipped', '# a;b;c;d\nx,y\n', ','],
    ['blank lines before the header are skipped', '\n \t\r\nx\ty\n', '\t'],
    ['only the first record is read', 'x,y\na;b;c;d;e\n', ','],
    ['CR line ends', 'x;y\ra,b,c,d\r', ';'],
    ['a first record without a line end', 'x;y;z', ';'],
  ];
  it.each(cases)('%s', (_name, text, delimiter) => {
    expect(sniffDelimiter(text)).toBe(delimiter);
  });
});
