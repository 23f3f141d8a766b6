import type { Clock, Scheduler } from '../core/clock.js';

/**
 * The process's own clock and timers behind the core's {@link Clock} and
 * {@link Scheduler} ports. `now` is `Date.now` itself: the scan reads it for
 * every row.
 */
export const systemClock: Clock & Scheduler = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  every(ms, task) {
    const timer = setInterval(task, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
