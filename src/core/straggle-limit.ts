import type { Clock, Scheduler } from './clock.js';

/** Default time after which a running task stops counting against the limit. */
export const DEFAULT_STRAGGLE_MS = 1_000;

/**
 * Runs at most `concurrency` tasks at once (in order of arrival), like
 * p-limit, except that a task running longer than `straggleMs` stops
 * counting: its slot goes to the next task. A domain whose name servers do
 * not answer waits out its timeouts and retries (seconds); without this, a
 * few of them take every slot while the rest of the portfolio waits.
 * Stragglers are released only while every slot is taken, so a limit that
 * is not full never grows; what bounds them is the caller's (the rows a
 * scan reads ahead, the rows of a worker's chunk jobs).
 */
export class StraggleLimit {
  private readonly running = new Map<number, number>(); // id → start
  private readonly queue: ((id: number) => void)[] = [];
  private queueHead = 0;
  private freeWaiters: (() => void)[] = [];
  private nextId = 0;
  private readonly stopSweep: () => void;
  private readonly straggleMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly concurrency: number,
    options: {
      /** Reads when each task started. */
      clock: Clock;
      /** Runs the straggler sweep (a few times a second). */
      scheduler: Scheduler;
      /** Default {@link DEFAULT_STRAGGLE_MS}. */
      straggleMs?: number | undefined;
    },
  ) {
    this.straggleMs = options.straggleMs ?? DEFAULT_STRAGGLE_MS;
    this.clock = options.clock;
    this.stopSweep = options.scheduler.every(
      Math.min(100, this.straggleMs),
      () => this.releaseStragglers(),
    );
  }

  /** Every slot is taken (or promised to a waiting task). */
  get full(): boolean {
    return (
      this.running.size >= this.concurrency ||
      this.queueHead < this.queue.length
    );
  }

  /** Runs `task` once a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const id = await this.acquire();
    try {
      return await task();
    } finally {
      this.release(id);
    }
  }

  /** Resolves when a slot is free: at once when one is. */
  whenFree(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.freeWaiters.push(resolve));
  }

  /** Stops the straggler sweep (it does not keep the process alive either way). */
  close(): void {
    this.stopSweep();
  }

  private acquire(): Promise<number> {
    return new Promise((resolve) => {
      if (this.full) this.queue.push(resolve);
      else resolve(this.grant());
    });
  }

  private grant(): number {
    const id = this.nextId++;
    this.running.set(id, this.clock.now());
    return id;
  }

  private release(id: number): void {
    // A straggler's slot was given away when it was released.
    if (this.running.delete(id)) this.drain();
  }

  private drain(): void {
    while (
      this.running.size < this.concurrency &&
      this.queueHead < this.queue.length
    ) {
      const wake = this.queue[this.queueHead++] as (id: number) => void;
      wake(this.grant());
    }
    // Drop the granted entries: all of them, or a long run of them.
    if (
      this.queueHead === this.queue.length ||
      (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length)
    ) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (!this.full && this.freeWaiters.length > 0) {
      const waiters = this.freeWaiters;
      this.freeWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  // Only while every slot is taken: gives away the slots of the tasks that
  // have run too long.
  private releaseStragglers(): void {
    if (this.running.size < this.concurrency) return;
    const cutoff = this.clock.now() - this.straggleMs;
    let released = false;
    for (const [id, since] of this.running) {
      if (since > cutoff) break;
      this.running.delete(id);
      released = true;
    }
    if (released) this.drain();
  }
}
