/** The exit code of a run stopped by SIGINT or SIGTERM (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** What the signals do during one phase of a run. */
export interface StopPhase {
  /**
   * The first signal, called before {@link StopSignal.signal} is aborted.
   * Default: nothing but the abort.
   */
  first?(name: NodeJS.Signals): void;
  /** The second signal. Default: the process exits at once, code 130. */
  again?(name: NodeJS.Signals): void;
}

/** What {@link StopSignal.race} gives when the run is asked to stop first. */
export const STOPPED: unique symbol = Symbol('stopped');

/**
 * SIGINT and SIGTERM for every long command, in one object: the first
 * signal asks the run to stop ({@link signal} is aborted: it finishes what
 * it holds, or gives up and says how to resume), the second stops at once.
 * Later ones change nothing. Signals are heard from {@link listen} to
 * {@link dispose}; until then the process keeps Node's own handling.
 */
export class StopSignal {
  private readonly controller = new AbortController();
  private phase: StopPhase = {};
  private received = 0;
  private listening = false;
  private waiter: (() => void) | null = null;
  private readonly onSignal = (name: NodeJS.Signals): void =>
    this.receive(name);

  /** `exit` ends the process (tests pass their own). */
  constructor(
    private readonly exit: (code: number) => never = (code) =>
      process.exit(code),
  ) {}

  /** Aborted (reason: an Error 'interrupted') by the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first signal has come. */
  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** Starts hearing the signals, with what they do in the first phase. */
  listen(phase: StopPhase = {}): void {
    this.phase = phase;
    if (this.listening) return;
    this.listening = true;
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** What the signals do from now on (the run entered a new phase). */
  during(phase: StopPhase): void {
    this.phase = phase;
  }

  /** Ends the process at once with code 130 (a hard stop). */
  exitNow(): never {
    return this.exit(EXIT_INTERRUPTED);
  }

  /**
   * `pending`, or {@link STOPPED} as soon as the run is asked to stop,
   * whichever comes first. One waiter at a time: racing a long-lived promise
   * instead would keep a reaction per call (per row) alive for the whole run.
   */
  race<T>(pending: Promise<T>): Promise<T | typeof STOPPED> {
    if (this.stopped) return Promise.resolve(STOPPED);
    return new Promise<T | typeof STOPPED>((resolve, reject) => {
      this.waiter = () => resolve(STOPPED);
      pending.then(
        (value) => {
          this.waiter = null;
          resolve(value);
        },
        (err: unknown) => {
          this.waiter = null;
          reject(err);
        },
      );
    });
  }

  /** Stops hearing the signals. */
  dispose(): void {
    if (!this.listening) return;
    this.listening = false;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private receive(name: NodeJS.Signals): void {
    this.received++;
    if (this.received === 1) {
      this.phase.first?.(name);
      this.controller.abort(new Error('interrupted'));
      this.waiter?.();
    } else if (this.received === 2) {
      if (this.phase.again) this.phase.again(name);
      else this.exitNow();
    }
  }
}
