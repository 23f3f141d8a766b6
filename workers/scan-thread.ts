/**
 * A scan thread: builds its own ports (resolvers, cache, ASN table) and scans
 * the batches of rows the main thread sends, answering with rendered rows.
 * Started by `src/run/thread-pool.ts`; never imported elsewhere.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { renderRow } from '../src/core/output-row.js';
import { domainScanner } from '../src/core/report.js';
import type { RowInput } from '../src/core/report.js';
import { scanRows } from '../src/core/scan-rows.js';
import { buildScanDeps } from '../src/run/deps.js';
import { systemClock } from '../src/adapters/system-clock.js';
import type {
  BatchRequest,
  BatchResult,
  ThreadNotice,
  ThreadSetup,
  ThreadTook,
} from '../src/run/thread-pool.js';

const setup = workerData as ThreadSetup;
const port = parentPort;
if (!port) throw new Error('workers/scan-thread runs only as a worker thread');

const built = await buildScanDeps(
  {
    ...setup.deps,
    onNotice: (notice) => port.postMessage({ notice } satisfies ThreadNotice),
  },
  systemClock,
);
const scan = domainScanner(built.deps);

/** One continuous ordered scan over every batch the main thread sends. */
async function* incoming(): AsyncGenerator<RowInput> {
  const queue: BatchRequest[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  port?.on('message', (m: BatchRequest | null) => {
    if (m === null) closed = true;
    else queue.push(m);
    wake?.();
  });
  for (;;) {
    const batch = queue.shift();
    if (batch) {
      port?.postMessage({ took: true } satisfies ThreadTook);
      yield* batch.rows;
      continue;
    }
    if (closed) return;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  }
}

// Rows come back in the order they were sent; the main thread knows each
// batch's size, so results go back batch by batch.
let pending: BatchResult = { rendered: [], tallies: [] };
for await (const report of scanRows(incoming(), scan, {
  concurrency: setup.concurrency,
  clock: built.clock,
  scheduler: built.clock,
})) {
  pending.rendered.push(renderRow(report, setup.format, setup.inputHeader));
  pending.tallies.push([report.verdict.classification, report.status]);
  if (pending.rendered.length >= setup.batchSize) {
    port.postMessage(pending);
    pending = { rendered: [], tallies: [] };
  }
  // a short last batch of a run is flushed when the stream ends
}
if (pending.rendered.length > 0) port.postMessage(pending);
built.close();
