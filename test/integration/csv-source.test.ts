import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  writeFile,
} from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/adapters/csv-input/input-error.js';
import type { InputErrorCode } from '../../src/adapters/csv-input/input-error.js';
import { openSource } from '../../src/adapters/csv-source.js';
import type {
  InputRow,
  InputSource,
  SourceOptions,
} from '../../src/adapters/csv-source.js';

let dir: string;
let fileNo = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exoscope-csv-source-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(content: string | Buffer): Promise<string> {
  const path = join(dir, `input-${++fileNo}.csv`);
  await writeFile(path, content);
  return path;
}

async function collect(source: InputSource): Promise<InputRow[]> {
  const rows: InputRow[] = [];
  for await (const row of source.rows) rows.push(row);
  return rows;
}

/** Opens and reads everything; an error from either step is returned. */
async function readAll(
  content: string | Buffer,
  options: Omit<SourceOptions, 'path'> = {},
): Promise<{ source: InputSource; rows: InputRow[] }> {
  const source = await openSource({ path: await file(content), ...options });
  return { source, rows: await collect(source) };
}

async function failure(run: () => Promise<unknown>): Promise<InputError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i < le.length; i += 2) {
    const a = le[i] as number;
    le[i] = le[i + 1] as number;
    le[i + 1] = a;
  }
  return le;
}

interface LayoutCase {
  name: string;
  content: string | Buffer;
  options?: Omit<SourceOptions, 'path'>;
  header: string[];
  domainColumn: number;
  hasHeader: boolean;
  values: string[];
  lines: number[];
  fields?: string[][];
  skipped?: { blank: number; comment: number };
}

const layouts: LayoutCase[] = [
  {
    name: 'plain list, no header',
    content: 'x.com\ny.com\n',
    header: ['input'],
    domainColumn: 0,
    hasHeader: false,
    values: ['x.com', 'y.com'],
    lines: [1, 2],
  },
  {
    name: 'plain list without a final newline',
    content: 'x.com\ny.com',
    header: ['input'],
    domainColumn: 0,
    hasHeader: false,
    values: ['x.com', 'y.com'],
    lines: [1, 2],
  },
  {
    name: 'single "Domain" header',
    content: 'Domain\nx.com\n',
    header: ['Domain'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com'],
    lines: [2],
  },
  {
    name: 'UTF-8 BOM is stripped from the first cell',
    content: '\ufeffdomain,name\nx.com,X\n',
    header: ['domain', 'name'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com'],
    lines: [2],
    fields: [['x.com', 'X']],
  },
  {
    name: 'CRLF line endings',
    content: 'domain,name\r\nx.com,X\r\ny.com,Y\r\n',
    header: ['domain', 'name'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com', 'y.com'],
    lines: [2, 3],
    fields: [
      ['x.com', 'X'],
      ['y.com', 'Y'],
    ],
  },
  {
    name: 'CR-only line endings',
    content: 'domain\rx.com\ry.com',
    header: ['domain'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com', 'y.com'],
    lines: [2, 3],
  },
  {
    name: 'mixed LF and CRLF',
    content: 'name,domain\nA,x.com\r\nB,y.com\n',
    header: ['name', 'domain'],
    domainColumn: 1,
    hasHeader: true,
    values: ['x.com', 'y.com'],
    lines: [2, 3],
  },
  {
    name: 'semicolon delimiter is sniffed',
    content: 'Name;Website;Notes\nAcme;x.com;a, b\n',
    header: ['Name', 'Website', 'Notes'],
    domainColumn: 1,
    hasHeader: true,
    values: ['x.com'],
    lines: [2],
    fields: [['Acme', 'x.com', 'a, b']],
  },
  {
    name: 'tab delimiter with trailing tabs',
    content: 'name\tdomain\t\t\nAcme\tx.com\t\t\nBeta\ty.com\t\n',
    header: ['name', 'domain', '', ''],
    domainColumn: 1,
    hasHeader: true,
    values: ['x.com', 'y.com'],
    lines: [2, 3],
    fields: [
      ['Acme', 'x.com', '', ''],
      ['Beta', 'y.com', ''],
    ],
  },
  {
    name: 'explicit delimiter overrides sniffing',
    content: 'a;b\nc;d\n',
    options: { delimiter: ',' },
    header: ['input'],
    domainColumn: 0,
    hasHeader: false,
    values: ['a;b', 'c;d'],
    lines: [1, 2],
  },
  {
    name: 'quoted fields with delimiters, quotes and newlines',
    content:
      'domain,notes\nx.com,"a, b"\n"y.com","line 1\nline 2"\nz.com,"say ""hi"""\n',
    header: ['domain', 'notes'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com', 'y.com', 'z.com'],
    lines: [2, 3, 5],
    fields: [
      ['x.com', 'a, b'],
      ['y.com', 'line 1\nline 2'],
      ['z.com', 'say "hi"'],
    ],
  },
  {
    name: 'CRLF inside a quoted field counts as one line',
    content: 'domain,notes\r\nx.com,"a\r\nb\r\nc"\r\ny.com,d\r\n',
    header: ['domain', 'notes'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com', 'y.com'],
    lines: [2, 5],
  },
  {
    name: 'blank and comment lines are skipped and counted',
    content:
      '# exported 2024-01-01\ndomain\n\nx.com\n   \n# "unbalanced quote\ny.com\n\t\n"#not-a-comment"\n',
    header: ['domain'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com', 'y.com', '#not-a-comment'],
    lines: [4, 7, 9],
    skipped: { blank: 3, comment: 2 },
  },
  {
    name: 'rows of only delimiters are blank',
    content: 'domain,name\n,\nx.com,X\n, ,\n',
    header: ['domain', 'name'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com'],
    lines: [3],
    skipped: { blank: 2, comment: 0 },
  },
  {
    name: 'header only',
    content: 'domain,name\n',
    header: ['domain', 'name'],
    domainColumn: 0,
    hasHeader: true,
    values: [],
    lines: [],
  },
  {
    name: 'header priority: website beats email',
    content: 'Email,Website\na@x.com,y.com\n',
    header: ['Email', 'Website'],
    domainColumn: 1,
    hasHeader: true,
    values: ['y.com'],
    lines: [2],
  },
  {
    name: 'header names compare trimmed, any case, _ as space',
    content: 'id, Domain_Name \n1,x.com\n',
    header: ['id', ' Domain_Name '],
    domainColumn: 1,
    hasHeader: true,
    values: ['x.com'],
    lines: [2],
  },
  {
    name: '--column picks a column by name',
    content: 'domain,Client Site\nold.com,x.com\n',
    options: { column: 'client site' },
    header: ['domain', 'Client Site'],
    domainColumn: 1,
    hasHeader: true,
    values: ['x.com'],
    lines: [2],
  },
  {
    name: 'several columns, no header, domain first',
    content: 'x.com,Acme\ny.com,Beta\n',
    header: ['input', 'column_2'],
    domainColumn: 0,
    hasHeader: false,
    values: ['x.com', 'y.com'],
    lines: [1, 2],
  },
  {
    name: 'several columns, no header, domain second',
    content: '1,x.com,Acme\n2,y.com,Beta\n',
    header: ['column_1', 'input', 'column_3'],
    domainColumn: 1,
    hasHeader: false,
    values: ['x.com', 'y.com'],
    lines: [1, 2],
  },
  {
    name: 'ragged rows are kept as they are',
    content: 'name,domain\nAcme\nBeta,y.com,extra\n',
    header: ['name', 'domain'],
    domainColumn: 1,
    hasHeader: true,
    values: ['', 'y.com'],
    lines: [2, 3],
    fields: [['Acme'], ['Beta', 'y.com', 'extra']],
  },
  {
    name: 'stray quotes inside a field are kept',
    content: 'domain,name\nx.com,O"Brien\n',
    header: ['domain', 'name'],
    domainColumn: 0,
    hasHeader: true,
    values: ['x.com'],
    lines: [2],
    fields: [['x.com', 'O"Brien']],
  },
  {
    name: 'UTF-16LE with BOM',
    content: Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('domain,name\r\nbücher.de,Bü\r\n', 'utf16le'),
    ]),
    header: ['domain', 'name'],
    domainColumn: 0,
    hasHeader: true,
    values: ['bücher.de'],
    lines: [2],
    fields: [['bücher.de', 'Bü']],
  },
  {
    name: 'UTF-16BE with BOM',
    content: Buffer.concat([
      Buffer.from([0xfe, 0xff]),
      utf16be('domain\nпример.рф\n'),
    ]),
    header: ['domain'],
    domainColumn: 0,
    hasHeader: true,
    values: ['пример.рф'],
    lines: [2],
  },
];

describe('openSource: layouts', () => {
  it.each(layouts)('$name', async (c) => {
    const { source, rows } = await readAll(c.content, c.options);
    expect(source.header).toEqual(c.header);
    expect(source.domainColumn).toBe(c.domainColumn);
    expect(source.hasHeader).toBe(c.hasHeader);
    expect(rows.map((r) => r.value)).toEqual(c.values);
    expect(rows.map((r) => r.line)).toEqual(c.lines);
    expect(rows.map((r) => r.index)).toEqual(c.values.map((_, i) => i));
    if (c.fields) expect(rows.map((r) => r.fields)).toEqual(c.fields);
    expect(source.skipped).toEqual(c.skipped ?? { blank: 0, comment: 0 });
  });
});

interface ErrorCase {
  name: string;
  content: string | Buffer;
  options?: Omit<SourceOptions, 'path'>;
  code: InputErrorCode;
  line?: number;
  message?: RegExp;
}

const latin1 = Buffer.from('domain\nx.com\ncafé.fr\n', 'latin1');

const errors: ErrorCase[] = [
  { name: 'empty file', content: '', code: 'EXO_INPUT_EMPTY' },
  {
    name: 'BOM only',
    content: Buffer.from([0xef, 0xbb, 0xbf]),
    code: 'EXO_INPUT_EMPTY',
  },
  {
    name: 'white space only',
    content: '  \n\n\t\r\n',
    code: 'EXO_INPUT_EMPTY',
  },
  { name: 'comments only', content: '# a\n# b\n', code: 'EXO_INPUT_EMPTY' },
  {
    name: 'Latin-1 bytes',
    content: latin1,
    code: 'EXO_INPUT_ENCODING',
    line: 3,
    message: /line 3 is not valid UTF-8/,
  },
  {
    name: 'a truncated UTF-8 sequence at the end',
    content: Buffer.concat([
      Buffer.from('domain\nx.com\nb'),
      Buffer.from([0xc3]),
    ]),
    code: 'EXO_INPUT_ENCODING',
    line: 3,
  },
  {
    name: 'NUL bytes',
    content: Buffer.from('domain\nx.com\ny\0\0z\n'),
    code: 'EXO_INPUT_BINARY',
    line: 3,
  },
  {
    name: 'a ZIP / .xlsx file',
    content: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]),
    code: 'EXO_INPUT_BINARY',
    message: /xlsx/,
  },
  {
    name: 'UTF-16LE without a BOM',
    content: Buffer.from('domain\nx.com\ny.com\n', 'utf16le'),
    code: 'EXO_INPUT_ENCODING',
    message: /UTF-16LE/,
  },
  {
    name: 'UTF-16LE with a lone surrogate',
    content: Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('domain\nx.com\n', 'utf16le'),
      Buffer.from([0x00, 0xd8, 0x61, 0x00]),
    ]),
    code: 'EXO_INPUT_ENCODING',
  },
  {
    name: 'unclosed quote',
    content: 'domain,name\nx.com,X\n"y.com,Y\nz.com,Z\n',
    code: 'EXO_INPUT_CSV',
    line: 3,
    message: /line 3: malformed CSV: a quoted field is never closed/,
  },
  {
    name: 'several columns naming no domain column',
    content: 'Company,Contact\nAcme,Bob\n',
    code: 'EXO_INPUT_NO_DOMAIN_COLUMN',
    message: /'Company', 'Contact'.*--column/,
  },
  {
    name: '--column that is not in the header',
    content: 'domain,name\nx.com,X\n',
    options: { column: 'site' },
    code: 'EXO_INPUT_NO_DOMAIN_COLUMN',
    message: /no column named 'site'; the header is 'domain', 'name'/,
  },
];

describe('openSource: errors', () => {
  it.each(errors)('$name → $code', async (c) => {
    const path = await file(c.content);
    const err = await failure(async () =>
      collect(await openSource({ path, ...c.options })),
    );
    expect(err.code).toBe(c.code);
    expect(err.message).toContain(path);
    expect(err.message).not.toContain('\n');
    if (c.line !== undefined) expect(err.line).toBe(c.line);
    if (c.message) expect(err.message).toMatch(c.message);
  });

  it('a missing file → EXO_INPUT_NOT_FOUND', async () => {
    const path = join(dir, 'nope.csv');
    const err = await failure(() => openSource({ path }));
    expect(err.code).toBe('EXO_INPUT_NOT_FOUND');
    expect(err.message).toBe(
      `${path}: no such file; give the path of a CSV file or a list of domains (one a line), or - to read stdin`,
    );
    expect(err.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('a directory → EXO_INPUT_IS_DIRECTORY', async () => {
    const path = join(dir, 'a-directory');
    await mkdir(path);
    const err = await failure(() => openSource({ path }));
    expect(err.code).toBe('EXO_INPUT_IS_DIRECTORY');
    expect(err.message).toContain(path);
  });

  it.skipIf(process.getuid?.() === 0)(
    'an unreadable file → EXO_INPUT_UNREADABLE',
    async () => {
      const path = await file('domain\nx.com\n');
      await chmod(path, 0o000);
      const err = await failure(() => openSource({ path }));
      expect(err.code).toBe('EXO_INPUT_UNREADABLE');
      expect(err.message).toContain(path);
    },
  );
});

// Measure what is retained, not garbage awaiting collection: vitest does not
// start Node with --expose-gc, but the flag can still be set at run time.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** `count` rows of ASCII filler, so later bytes fall beyond the 64 KiB peek. */
function filler(count: number): string {
  let text = 'domain,n\n';
  for (let i = 0; i < count; i++) text += `host-${i}.test,${i}\n`;
  return text;
}

describe('openSource: problems past the first chunk', () => {
  it('reports Latin-1 bytes deep in the file while iterating, with the line', async () => {
    const content = Buffer.concat([
      Buffer.from(filler(20_000)),
      Buffer.from('café.fr,x\n', 'latin1'),
    ]);
    const source = await openSource({ path: await file(content) });
    const seen: string[] = [];
    const err = await failure(async () => {
      for await (const row of source.rows) seen.push(row.value);
    });
    expect(err.code).toBe('EXO_INPUT_ENCODING');
    expect(err.line).toBe(20_002);
    expect(seen.every((value) => value.startsWith('host-'))).toBe(true);
  });

  it('reports a NUL byte deep in the file', async () => {
    const content = `${filler(20_000)}x\0y.com,1\n`;
    const source = await openSource({ path: await file(content) });
    const err = await failure(() => collect(source));
    expect(err.code).toBe('EXO_INPUT_BINARY');
    expect(err.line).toBe(20_002);
  });

  it('reports an unclosed quote deep in the file at the line it opens', async () => {
    const content = `${filler(20_000)}"open.test,1\n${'more.test,2\n'.repeat(5)}`;
    const source = await openSource({ path: await file(content) });
    const err = await failure(() => collect(source));
    expect(err.code).toBe('EXO_INPUT_CSV');
    expect(err.line).toBe(20_002);
  });

  it('decodes a UTF-8 character split across read chunks', async () => {
    // Put 'ü' (0xC3 0xBC) across the 64 KiB boundary of the file stream.
    const head = 'domain\n';
    const pad = 65_535 - head.length - 2;
    const content = `${head}${'a'.repeat(pad - 5)}.test\nbücher.de\n`;
    expect(Buffer.from(content).indexOf('ü')).toBe(65_535);
    const { rows } = await readAll(content);
    expect(rows.map((r) => r.value)).toEqual([
      `${'a'.repeat(pad - 5)}.test`,
      'bücher.de',
    ]);
  });
});

describe('openSource: stdin', () => {
  it("reads '-' from the given stream", async () => {
    const stdin = Readable.from([Buffer.from('domain\nx.com\n'), 'y.com\n']);
    const source = await openSource({ path: '-', stdin });
    expect(source.hasHeader).toBe(true);
    expect((await collect(source)).map((r) => r.value)).toEqual([
      'x.com',
      'y.com',
    ]);
  });

  it('names stdin in messages', async () => {
    const stdin = Readable.from([Buffer.alloc(0)]);
    const err = await failure(() => openSource({ path: '-', stdin }));
    expect(err.code).toBe('EXO_INPUT_EMPTY');
    expect(err.message).toMatch(/^stdin: /);
  });

  it('survives tiny chunks that split multi-byte characters', async () => {
    const lines = Array.from({ length: 8_000 }, (_, i) => `bücher-${i}.de`);
    const bytes = Buffer.from(`domain\n${lines.join('\n')}\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3) {
      chunks.push(bytes.subarray(i, i + 3));
    }
    const source = await openSource({
      path: '-',
      stdin: Readable.from(chunks),
    });
    expect((await collect(source)).map((r) => r.value)).toEqual(lines);
  });

  it('turns a stream error into EXO_INPUT_UNREADABLE', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 20; i++) {
        yield Buffer.from(filler(1_000));
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error('EIO: i/o error');
    }
    const source = await openSource({
      path: '-',
      stdin: Readable.from(broken()),
    });
    const err = await failure(() => collect(source));
    expect(err.code).toBe('EXO_INPUT_UNREADABLE');
    expect(err.message).toContain('EIO');
  });
});

describe('openSource: streaming', () => {
  it('stops reading and closes the file when the consumer stops', async () => {
    const path = await file(filler(50_000));
    const openFds = async (): Promise<number> =>
      process.platform === 'linux'
        ? (await readdir('/proc/self/fd')).length
        : 0;
    const fdsBefore = await openFds();
    const source = await openSource({ path });
    let n = 0;
    for await (const row of source.rows) {
      if (++n === 10) break;
      expect(row.value).toBe(`host-${n - 1}.test`);
    }
    expect(n).toBe(10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await openFds()).toBe(fdsBefore);
  });

  it('streams 200k rows with flat memory', async () => {
    const path = join(dir, 'big.csv');
    const out = createWriteStream(path);
    out.write('Company;Domain;Notes\n');
    for (let i = 0; i < 200_000; i++) {
      if (!out.write(`Company ${i};client-${i}.example;"note, ${i}"\n`)) {
        await once(out, 'drain');
      }
    }
    out.end();
    await once(out, 'finish');

    const source = await openSource({ path });
    expect(source.domainColumn).toBe(1);
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let count = 0;
    let last: InputRow | undefined;
    for await (const row of source.rows) {
      count++;
      last = row;
      if (count % 20_000 === 0) {
        collectGarbage();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    expect(count).toBe(200_000);
    expect(last).toMatchObject({
      index: 199_999,
      line: 200_001,
      value: 'client-199999.example',
      fields: ['Company 199999', 'client-199999.example', 'note, 199999'],
    });
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
  });
});
