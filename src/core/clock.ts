/**
 * The time, as the core reads it. The core never reads `Date.now` itself:
 * its caller passes a clock (the system's, or a test's).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Timers, for the core's parts that wait or sweep; passed in like the clock. */
export interface Scheduler {
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /**
   * Calls `task` every `ms` milliseconds until the returned function is
   * called. Never keeps the process alive on its own.
   */
  every(ms: number, task: () => void): () => void;
}
