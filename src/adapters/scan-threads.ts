import { Worker } from 'node:worker_threads';
import type { RenderedRow } from '../core/output-row.js';
import type { RowInput } from '../core/report.js';
import type { DepsOptions } from './scan-deps.js';

/** What a scan thread needs to build its ports and render rows. */
export interface ThreadSetup {
  deps: DepsOptions;
  /** Domains one thread scans at the same time. */
  concurrency: number;
  format: 'csv' | 'jsonl';
  inputHeader: readonly string[];
  /** Rows per message, both ways. */
  batchSize: number;
}

export interface BatchRequest {
  rows: RowInput[];
}

/** A batch of results: rendered rows and (classification, status) for the summary. */
export interface BatchResult {
  rendered: RenderedRow[];
  tallies: [string, string][];
}

/** A line for the user from a thread's ports (see `DepsOptions.onNotice`). */
export interface ThreadNotice {
  notice: string;
}

export interface ThreadedRow {
  rendered: RenderedRow;
  classification: string;
  status: string;
}

const BATCH = 50;

/**
 * Scans rows on `threads` worker threads (both cores, or more) and yields
 * their rendered rows in input order. Rows are dealt out in batches round
 * robin; each thread returns its rows in the order it got them, so the main
 * thread only interleaves the threads' result streams back. A thread's
 * notices go to `onNotice` as they come (each thread tells its own).
 */
export async function* scanOnThreads(
  rows: AsyncIterable<RowInput>,
  threads: number,
  setup: Omit<ThreadSetup, 'batchSize' | 'concurrency'> & {
    concurrency: number;
  },
  onNotice: (line: string) => void = () => {},
): AsyncGenerator<ThreadedRow> {
  const share = threadShare(setup, threads);
  const perThread = share.concurrency;
  // Batches sent ahead of the results read: enough to keep every thread
  // busy. Not as far as scanRows' window: rows sent ahead wait in the
  // thread's heap, and 10 000 of them (bench run at 713a74e) cost a third
  // more CPU a domain, in GC; so a domain with dead name servers holds its
  // thread back (see the README's DNS options).
  const ahead = Math.max(2, Math.ceil((perThread * 4) / BATCH));
  const workers = Array.from({ length: threads }, () =>
    startThread({ ...share, batchSize: BATCH }, onNotice),
  );
  // sizes[i]: the sizes of the batches sent to thread i, not yet read back
  const sizes: number[][] = workers.map(() => []);
  let next = 0;
  let sentBatches = 0;
  let readBatches = 0;

  const readOne = async function* (): AsyncGenerator<ThreadedRow> {
    const t = readBatches % threads;
    const size = sizes[t]?.shift() ?? 0;
    readBatches++;
    const w = workers[t] as ThreadHandle;
    for (let got = 0; got < size;) {
      const result = await w.next();
      for (let i = 0; i < result.rendered.length; i++) {
        const [classification, status] = result.tallies[i] as [string, string];
        yield {
          rendered: result.rendered[i] as RenderedRow,
          classification,
          status,
        };
      }
      got += result.rendered.length;
    }
  };

  try {
    let batch: RowInput[] = [];
    const send = (): void => {
      const t = next;
      next = (next + 1) % threads;
      sizes[t]?.push(batch.length);
      workers[t]?.send({ rows: batch });
      batch = [];
      sentBatches++;
    };
    for await (const row of rows) {
      batch.push(row);
      if (batch.length < BATCH) continue;
      send();
      while (sentBatches - readBatches > ahead * threads) yield* readOne();
    }
    if (batch.length > 0) send();
    for (const w of workers) w.end();
    while (readBatches < sentBatches) yield* readOne();
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * One thread's part of the run's budgets: `--concurrency` and `--rate` are
 * for the whole run, so each of `threads` threads gets its share.
 */
export function threadShare<
  S extends { concurrency: number; deps: DepsOptions },
>(setup: S, threads: number): S {
  return {
    ...setup,
    concurrency: Math.max(1, Math.ceil(setup.concurrency / threads)),
    deps: { ...setup.deps, rate: setup.deps.rate / threads },
  };
}

interface ThreadHandle {
  send(request: BatchRequest): void;
  /** The next batch of results this thread posted. */
  next(): Promise<BatchResult>;
  /** No more batches: the thread flushes what it holds. */
  end(): void;
  terminate(): Promise<void>;
}

function startThread(
  setup: ThreadSetup,
  onNotice: (line: string) => void,
): ThreadHandle {
  const worker = new Worker(
    new URL('./scan-thread-entry.js', import.meta.url),
    {
      workerData: setup,
    },
  );
  const results: BatchResult[] = [];
  const waiters: {
    resolve: (r: BatchResult) => void;
    reject: (e: Error) => void;
  }[] = [];
  let failure: Error | null = null;
  worker.on('message', (r: BatchResult | ThreadNotice) => {
    if ('notice' in r) {
      onNotice(r.notice);
      return;
    }
    const w = waiters.shift();
    if (w) w.resolve(r);
    else results.push(r);
  });
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiters.splice(0)) w.reject(err);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (code !== 0) fail(new Error(`scan thread exited with code ${code}`));
    else fail(new Error('scan thread ended before sending every row'));
  });
  return {
    send: (request) => worker.postMessage(request),
    next() {
      const r = results.shift();
      if (r) return Promise.resolve(r);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) =>
        waiters.push({ resolve, reject }),
      );
    },
    end: () => worker.postMessage(null),
    terminate: async () => {
      await worker.terminate();
    },
  };
}
