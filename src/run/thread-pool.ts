import { Worker } from 'node:worker_threads';
import type { RenderedRow } from '../core/output-row.js';
import type { RowInput } from '../core/report.js';
import { DEFAULT_WINDOW } from '../core/scan-rows.js';
import type { DepsOptions } from './deps.js';

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

/** A thread started on the next batch sent to it (its scan read the rows before). */
export interface ThreadTook {
  took: true;
}

export interface ThreadedRow {
  rendered: RenderedRow;
  classification: string;
  status: string;
}

const BATCH = 50;

/**
 * Scans rows on `threads` worker threads (both cores, or more) and yields
 * their rendered rows in input order. Rows are dealt out in batches, each
 * to the thread with the fewest batches not yet started; each thread
 * returns its rows in the order it got them, so the main thread only
 * interleaves the threads' result streams back. A thread's notices go to
 * `onNotice` as they come (each thread tells its own).
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
  // busy. Past that, more only while a thread is running out of rows (the
  // oldest batch waits for a slow domain: one whose name servers do not
  // answer takes seconds), up to scanRows' window. Never rows waiting
  // unstarted in a thread's heap: 10 000 of them (bench run at 713a74e)
  // cost a third more CPU a domain, in GC.
  const ahead = Math.max(2, Math.ceil((perThread * 4) / BATCH));
  const most = Math.max(ahead * threads, Math.ceil(DEFAULT_WINDOW / BATCH));
  let activity: (() => void) | null = null;
  const onActivity = (): void => activity?.();
  const workers = Array.from({ length: threads }, () =>
    startThread({ ...share, batchSize: BATCH }, onNotice, onActivity),
  );
  // sizes[i]: the sizes of the batches sent to thread i, not yet read back;
  // order: the thread of each batch sent and not read back, oldest first.
  const sizes: number[][] = workers.map(() => []);
  const order: number[] = [];
  let orderHead = 0;
  let sentBatches = 0;
  let readBatches = 0;

  const readOne = async function* (): AsyncGenerator<ThreadedRow> {
    const t = order[orderHead++] as number;
    if (orderHead > 1024 && orderHead * 2 > order.length) {
      order.splice(0, orderHead);
      orderHead = 0;
    }
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
    let next = 0;
    const send = (): void => {
      // the thread with the fewest batches not started, round robin in a tie
      let t = next;
      for (let i = 1; i < threads; i++) {
        const c = (next + i) % threads;
        if (
          (workers[c] as ThreadHandle).queued <
          (workers[t] as ThreadHandle).queued
        )
          t = c;
      }
      next = (t + 1) % threads;
      sizes[t]?.push(batch.length);
      order.push(t);
      workers[t]?.send({ rows: batch });
      batch = [];
      sentBatches++;
    };
    const hungry = (): boolean => workers.some((w) => w.queued < 2);
    for await (const row of rows) {
      batch.push(row);
      if (batch.length < BATCH) continue;
      send();
      for (;;) {
        const backlog = sentBatches - readBatches;
        if (backlog <= ahead * threads) break;
        const head = workers[order[orderHead] as number] as ThreadHandle;
        if (head.ready()) {
          yield* readOne();
          continue;
        }
        if (backlog < most && hungry()) break;
        await new Promise<void>((resolve) => (activity = resolve));
        activity = null;
      }
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
  /** Batches sent and not yet started by the thread's scan. */
  readonly queued: number;
  /** A batch of results is here: `next()` will not wait. */
  ready(): boolean;
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
  onActivity: () => void,
): ThreadHandle {
  const worker = new Worker(
    new URL('../../workers/scan-thread.js', import.meta.url),
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
  let queued = 0;
  worker.on('message', (r: BatchResult | ThreadNotice | ThreadTook) => {
    if ('notice' in r) {
      onNotice(r.notice);
      return;
    }
    if ('took' in r) {
      queued--;
      onActivity();
      return;
    }
    const w = waiters.shift();
    if (w) w.resolve(r);
    else results.push(r);
    onActivity();
  });
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiters.splice(0)) w.reject(err);
    onActivity();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (code !== 0) fail(new Error(`scan thread exited with code ${code}`));
    else fail(new Error('scan thread ended before sending every row'));
  });
  return {
    get queued() {
      return queued;
    },
    ready: () => results.length > 0 || failure !== null,
    send: (request) => {
      queued++;
      worker.postMessage(request);
    },
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
