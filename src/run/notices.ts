/**
 * Lines for the user about the run's course (a resolver moved to UDP), each
 * once however many threads or channels report it. Held until the run is
 * set up (`open`): a resolver that turns out dead gets the pre-flight's one
 * error line, not a notice before it.
 */
export class Notices {
  /** Every line posted, in order, once each (for the closing summary). */
  readonly lines: string[] = [];
  private opened = false;

  /** `write` shows one line (without its newline) to the user. */
  constructor(private readonly write: (line: string) => void) {}

  readonly post = (line: string): void => {
    if (this.lines.includes(line)) return;
    this.lines.push(line);
    if (this.opened) this.write(line);
  };

  /** The run is set up: shows the lines held so far, and later ones as they come. */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    for (const line of this.lines) this.write(line);
  }
}
