import { describe, expect, it } from 'vitest';
import {
  BenchParseError,
  TruthCheck,
  allCorrect,
  countQueries,
  formatTruth,
  parseDnsperf,
  parseFloorSummary,
  parseGroundTruth,
  parseCpuTicks,
  parseProcStat,
  parseProcStatus,
  parseTimeOutput,
  redisInfoNumber,
  stealPercent,
} from '../../scripts/bench-parse.js';
import { memoryPlan } from '../../scripts/bench-memory.js';
import {
  emptyRow,
  joinNotes,
  transportNote,
} from '../../scripts/bench-steps.js';
import {
  alignedTable,
  formatDuration,
  medianRow,
  pairedRatios,
  renderReport,
  renderTable,
  roundOrder,
} from '../../scripts/bench-table.js';
import type { StepRow } from '../../scripts/bench-table.js';

describe('parseFloorSummary', () => {
  const out = [
    '{"run":1,"wall_s":15.1,"qps":65000,"domains_per_s":6600,"cpu_us_per_query":15.2,"outcome":{"NOERROR":5}}',
    '{"run":2,"wall_s":14.8,"qps":67000,"domains_per_s":6800,"cpu_us_per_query":14.9,"outcome":{}}',
    '{"summary":"median","node":"v20.20.2","cares":"1.34.6","server":"127.0.0.1:5354","file":"/d/queries.txt","conc":200,"runs":2,"queries":991000,"queries_per_domain":9.91,"wall_s":14.8,"qps":67000,"domains_per_s":6800,"cpu_us_per_query":14.9}',
    '',
  ].join('\n');

  it('reads the medians of the summary line, not a run line', () => {
    expect(parseFloorSummary(out)).toEqual({
      domainsPerS: 6800,
      qps: 67000,
      cpuUsPerQuery: 14.9,
      queriesPerDomain: 9.91,
      wallS: 14.8,
      queries: 991000,
    });
  });

  it.each([
    ['no summary', '{"run":1,"qps":1}\n'],
    ['not JSON', '{"summary": nope\n'],
    ['a missing figure', '{"summary":"median","qps":1}\n'],
  ])('throws a coded error for %s', (_name, text) => {
    expect(() => parseFloorSummary(text)).toThrow(BenchParseError);
    try {
      parseFloorSummary(text);
    } catch (err) {
      expect((err as BenchParseError).code).toBe('EXO_BENCH_PARSE');
    }
  });
});

describe('parseDnsperf', () => {
  const report = `DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 127.0.0.1 -p 35354 -d queries.txt -l 10 -c 4
[Status] Sending queries (to 127.0.0.1:35354)
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         1033356
  Queries completed:    1033350 (100.00%)
  Queries lost:         6 (0.00%)

  Response codes:       NOERROR 681200 (65.92%), NXDOMAIN 348000 (33.68%)
  Average packet size:  request 44, response 102
  Run time (s):         10.000181
  Queries per second:   103333.213

  Average Latency (s):  0.000951 (min 0.000021, max 0.010121)
  Latency StdDev (s):   0.000420
`;

  it('reads the queries per second and the counts', () => {
    expect(parseDnsperf(report)).toEqual({
      qps: 103333.213,
      sent: 1033356,
      completed: 1033350,
      lost: 6,
      avgLatencyS: 0.000951,
    });
  });

  it('is null without a result', () => {
    expect(parseDnsperf('Error: could not open queries.txt\n')).toBeNull();
  });
});

describe('/proc parsing', () => {
  it('reads VmRSS and VmHWM in KiB from status', () => {
    const status =
      'Name:\tnode\nState:\tS (sleeping)\nVmPeak:\t 1200000 kB\nVmHWM:\t  215104 kB\nVmRSS:\t  198000 kB\nThreads:\t11\n';
    expect(parseProcStatus(status)).toEqual({ rssKb: 198000, hwmKb: 215104 });
    expect(parseProcStatus('Name:\tkthreadd\n')).toEqual({
      rssKb: null,
      hwmKb: null,
    });
  });

  it('sums utime and stime from stat, counting fields after the command name', () => {
    // a command name with a space and a parenthesis must not shift the fields
    const stat =
      '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 9000 0 0 0 250 37 0 0 20 0 11 0 100 1000000 50000';
    expect(parseProcStat(stat)).toBeCloseTo(2.87);
    expect(parseProcStat(stat, 1000)).toBeCloseTo(0.287);
    expect(() => parseProcStat('garbage')).toThrow(BenchParseError);
  });

  it('reads the CPU ticks and the steal of all CPUs from /proc/stat', () => {
    const stat =
      'cpu  100 5 50 800 10 0 5 30 7 0\ncpu0 50 2 25 400 5 0 2 15 3 0\nintr 1\n';
    // guest (7) and guest_nice (0) are already in user and nice
    expect(parseCpuTicks(stat)).toEqual({ total: 1000, steal: 30 });
    expect(() => parseCpuTicks('cpu0 1 2 3\n')).toThrow(BenchParseError);
    expect(() => parseCpuTicks('cpu  1 2 x 4 5 6 7 8\n')).toThrow(
      BenchParseError,
    );
  });

  it('gives the steal between two readings in % of the CPU time', () => {
    const before = { total: 1000, steal: 30 };
    expect(stealPercent(before, { total: 1400, steal: 130 })).toBe(25);
    expect(stealPercent(before, before)).toBeNull();
  });
});

describe('parseTimeOutput', () => {
  it('reads the benchmark format, after GNU time status lines', () => {
    expect(
      parseTimeOutput(
        'Command exited with non-zero status 1\nEXOBENCH 12.34 1.05 215104\n',
      ),
    ).toEqual({ userS: 12.34, sysS: 1.05, maxRssKb: 215104 });
    expect(parseTimeOutput('Command terminated by signal 9\n')).toBeNull();
  });
});

describe('redisInfoNumber', () => {
  const info =
    '# Memory\r\nused_memory:1234567\r\nused_memory_human:1.18M\r\nused_memory_peak:2000000\r\n';
  it('reads a numeric field and ignores lookalikes', () => {
    expect(redisInfoNumber(info, 'used_memory')).toBe(1234567);
    expect(redisInfoNumber(info, 'used_memory_peak')).toBe(2000000);
    expect(redisInfoNumber(info, 'used_cpu_sys')).toBeNull();
  });
});

describe('countQueries', () => {
  const row = (queries: Array<[string, string]>): string =>
    JSON.stringify({
      domain: 'x',
      evidence: { queries: queries.map(([name, type]) => ({ name, type })) },
    });

  it('counts every answer used and the distinct ones sent', () => {
    const lines = [
      row([
        ['a.test', 'MX'],
        ['aspmx.l.google.com', 'A'],
      ]),
      row([
        ['b.test', 'MX'],
        ['ASPMX.l.google.com', 'A'], // a cache hit: same type and name
        ['aspmx.l.google.com', 'AAAA'],
      ]),
      JSON.stringify({ domain: 'bad', evidence: null }),
      '',
    ];
    expect(countQueries(lines)).toEqual({ rows: 3, asked: 5, distinct: 4 });
  });
});

describe('ground truth', () => {
  const truth = parseGroundTruth(
    'domain,expected_class\na.test,exchange-online\nb.test,hybrid\nc.test,no-mail\n',
  );

  it('parses the pairs and checks the header', () => {
    expect(truth).toEqual([
      ['a.test', 'exchange-online'],
      ['b.test', 'hybrid'],
      ['c.test', 'no-mail'],
    ]);
    expect(() => parseGroundTruth('name,class\na,b\n')).toThrow(
      BenchParseError,
    );
  });

  it.each([
    {
      name: 'all right',
      rows: [
        ['a.test', 'exchange-online'],
        ['b.test', 'hybrid'],
        ['c.test', 'no-mail'],
      ],
      text: 'correct: 3/3 (100.00 %)',
      ok: true,
      examples: 0,
    },
    {
      name: 'a wrong class',
      rows: [
        ['a.test', 'exchange-online'],
        ['b.test', 'exchange-onprem'],
        ['c.test', 'no-mail'],
      ],
      text: 'correct: 2/3 (66.67 %)',
      ok: false,
      examples: 1,
    },
    {
      name: 'rows out of order',
      rows: [
        ['b.test', 'hybrid'],
        ['a.test', 'exchange-online'],
        ['c.test', 'no-mail'],
      ],
      text: 'correct: 1/3 (33.33 %)',
      ok: false,
      examples: 2,
    },
    {
      name: 'a missing row',
      rows: [
        ['a.test', 'exchange-online'],
        ['b.test', 'hybrid'],
      ],
      text: 'correct: 2/3 (66.67 %) (1 rows missing)',
      ok: false,
      examples: 0,
    },
    {
      name: 'an extra row',
      rows: [
        ['a.test', 'exchange-online'],
        ['b.test', 'hybrid'],
        ['c.test', 'no-mail'],
        ['d.test', 'no-mail'],
      ],
      text: 'correct: 3/3 (100.00 %) (1 extra rows)',
      ok: false,
      examples: 1,
    },
  ])('$name', ({ rows, text, ok, examples }) => {
    const check = new TruthCheck(truth);
    for (const [d, c] of rows) check.add(d as string, c as string);
    const r = check.result();
    expect(formatTruth(r)).toBe(text);
    expect(allCorrect(r)).toBe(ok);
    expect(r.examples).toHaveLength(examples);
  });

  it('never prints 100.00 % for a wrong result', () => {
    const many = Array.from(
      { length: 100_000 },
      (_, i) => [`d${i}.test`, 'hybrid'] as const,
    );
    const check = new TruthCheck(many);
    many.forEach(([d], i) => check.add(d, i === 5 ? 'unknown' : 'hybrid'));
    expect(formatTruth(check.result())).toBe('correct: 99999/100000 (99.99 %)');
  });

  it('names the expected domain when the row is another one', () => {
    const check = new TruthCheck(truth);
    check.add('z.test', 'hybrid', 'mx-exo');
    expect(check.result().examples).toEqual([
      'row 1: z.test is hybrid, expected domain a.test (exchange-online) — mx-exo',
    ]);
  });
});

describe('table helpers', () => {
  it('aligns a Markdown table', () => {
    expect(alignedTable(['a', 'bbb'], [['xx', 'y']])).toEqual([
      '| a  | bbb |',
      '|----|-----|',
      '| xx | y   |',
    ]);
  });

  it("shows the servers' CPU with Knot's part in brackets", () => {
    const row = (server: number | null, auth: number | null): string =>
      (
        renderTable([
          {
            ...emptyRow('s', 1, ''),
            serverCpuUsPerDomain: server,
            authCpuUsPerDomain: auth,
          },
        ])[2] ?? ''
      )
        .split('|')
        .map((cell) => cell.trim())[8] ?? '';
    expect(row(128.4, 12.2)).toBe('128 (12)');
    expect(row(128.4, null)).toBe('128');
    expect(row(null, null)).toBe('—');
  });

  it.each([
    [12.345, '12.3 s'],
    [125, '2 min 5 s'],
  ])('formats %s s as %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});

describe('memoryPlan', () => {
  it.each([
    [100_000, { count: 100_000, repeats: 1 }],
    [900_000, { count: 900_000, repeats: 1 }],
    [1_000_000, { count: 500_000, repeats: 2 }],
    [2_000_001, { count: 666_667, repeats: 3 }],
  ])('reaches %i rows within what the generator can write', (rows, plan) => {
    expect(memoryPlan(rows)).toEqual(plan);
  });
});

describe('medianRow', () => {
  const row = (rate: number | null, ok: boolean | null = true): StepRow => ({
    ...emptyRow('scan, 1 process', 100, ''),
    wallS: rate === null ? null : 100 / rate,
    domainsPerS: rate,
    cpuUsPerDomain: rate === null ? null : 1e6 / rate,
    ok,
  });

  it('shows the run with the median rate, with every rate in the note', () => {
    const m = medianRow([row(3000), row(2500), row(2800)]);
    expect(m.domainsPerS).toBe(2800);
    expect(m.cpuUsPerDomain).toBeCloseTo(1e6 / 2800);
    expect(m.note).toBe(
      "median of 3 runs by domains/s (3000, 2500, 2800); the other figures are that run's",
    );
  });

  it('lists the CPU steal of every run when it was measured', () => {
    const stolen = (rate: number, stealPct: number | null) => ({
      ...row(rate),
      stealPct,
    });
    const m = medianRow([
      stolen(3000, 2),
      stolen(2500, 41.6),
      stolen(2800, null),
    ]);
    expect(m.stealPct).toBeNull();
    expect(m.note).toMatch(/; CPU steal of the runs: 2, 42, \? %$/);
  });

  it('takes the lower middle run of an even count', () => {
    expect(medianRow([row(4), row(1), row(3), row(2)]).domainsPerS).toBe(2);
  });

  it('shows a wrong or failed run instead of the median: a fast wrong result does not count', () => {
    expect(medianRow([row(3000), row(3100, false), row(2900)]).ok).toBe(false);
    const failed = medianRow([row(3000), row(null, null), row(2900)]);
    expect(failed.domainsPerS).toBeNull();
    expect(failed.note).toMatch(/^run 2 of 3 shown: it failed or was wrong/);
  });

  it('keeps the note of the step and returns a single run as it is', () => {
    const one = { ...row(10), note: 'halves took 1 s' };
    expect(medianRow([one])).toBe(one);
    expect(medianRow([one, row(20), row(5)]).note).toMatch(
      /^halves took 1 s; median of 3 runs/,
    );
  });
});

describe('pairedRatios', () => {
  const run = (rate: number | null, ok: boolean | null = true): StepRow => ({
    ...emptyRow('step', 100, ''),
    domainsPerS: rate,
    ok,
  });

  it('divides the runs of the same round, with the median ratio', () => {
    const p = pairedRatios(
      [run(3865), run(3282), run(3317)],
      [run(4261), run(3431), run(4184)],
    );
    expect(p?.ratios.map((r) => r?.toFixed(3))).toEqual([
      '0.907',
      '0.957',
      '0.793',
    ]);
    expect(p?.median).toBeCloseTo(3865 / 4261);
  });

  it('leaves out rounds where either run failed or was wrong', () => {
    const p = pairedRatios(
      [run(100), run(null), run(300), run(400, false)],
      [run(200), run(100), run(100), run(100)],
    );
    expect(p?.ratios).toEqual([0.5, null, 3, null]);
    expect(p?.median).toBe(1.75);
    expect(pairedRatios([run(null)], [run(100)])).toBeNull();
  });
});

describe('roundOrder', () => {
  it('starts each round one step later, so every step takes every place', () => {
    expect(roundOrder(5, 0)).toEqual([0, 1, 2, 3, 4]);
    expect(roundOrder(5, 1)).toEqual([1, 2, 3, 4, 0]);
    expect(roundOrder(5, 7)).toEqual([2, 3, 4, 0, 1]);
    const firsts = [0, 1, 2, 3, 4].map((r) => roundOrder(5, r)[0]);
    expect(new Set(firsts).size).toBe(5);
  });
});

describe('transportNote', () => {
  const notice = (who: string) =>
    `${who}: DNS resolver 127.0.0.1:5354 made no TCP connection (ECONNREFUSED): asking it over UDP from now on`;

  it('names a resolver moved to UDP once, from any process, live line or summary', () => {
    const scan = `${notice('exoscope')}\nexoscope: scanned 10 rows\n  DNS resolver 127.0.0.1:5354 made no TCP connection (ECONNREFUSED): asking it over UDP from now on\n`;
    const worker = `${notice('exoscope worker 4242')}\n`;
    expect(transportNote([scan, worker])).toBe(
      'exoscope moved a resolver to UDP: DNS resolver 127.0.0.1:5354 made no TCP connection (ECONNREFUSED): asking it over UDP from now on',
    );
  });

  it('says nothing when no resolver moved', () => {
    expect(transportNote(['exoscope: scanned 10 rows\n', ''])).toBe('');
    expect(joinNotes('a', transportNote([]), 'b')).toBe('a; b');
  });
});

describe('renderReport', () => {
  it('names the commit and the machine: cores, CPU model, Node version', () => {
    const text = renderReport({
      machine: {
        date: '2026-12-06T15:00:00Z',
        nproc: 2,
        cpu: 'AMD EPYC 7B13',
        memTotalMb: 24576,
        loadAvg: 0.5,
        node: 'v20.20.2',
        cares: '1.34.6',
        servers: 'Knot 3.2.6, Unbound 1.17.1',
        commit: 'ce67fff0a1b2',
      },
      params: {
        count: 2000,
        seed: 1,
        resolver: '127.0.0.1:35354',
        concurrency: null,
        dnsClient: 'auto',
        querySample: 2000,
      },
      floorDomainsPerS: null,
      steps: [],
      memory: null,
      totalS: 10,
      notes: [],
    });
    expect(text).toContain('Commit ce67fff0a1b2');
    expect(text).toContain('2 × AMD EPYC 7B13');
    expect(text).toContain('Node v20.20.2');
  });
});
