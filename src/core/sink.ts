import type { RenderedRow } from './output-row.js';
import type { RowReport } from './report.js';

/**
 * The port the scan writes its rows to, in input order (a CSV or JSONL
 * file, stdout); implemented by the adapters' output sink.
 */
export interface Sink {
  /** Rows written so far that had more fields than the header (flagged). */
  readonly extraFieldRows: number;
  write(report: RowReport): Promise<void>;
  /** Writes a row already rendered for this format (see `renderRow`). */
  writeRendered(row: RenderedRow): Promise<void>;
  /**
   * Ends the output; a file is published under its name only now, and never
   * over a file that appeared meanwhile unless --force (then it throws
   * `EXO_OUTPUT_EXISTS` naming where the rows were kept).
   */
  close(): Promise<void>;
  /** Stops without publishing: the temporary file is removed. */
  abort(): Promise<void>;
}

/** What `openSink` returns: a {@link Sink} that can also stop short. */
export interface ScanSink extends Sink {
  /**
   * True when rows go straight to their destination (stdout, a FIFO, a
   * device): what is written is out, and there is no partial file.
   */
  readonly direct: boolean;
  /**
   * Ends the output after the rows written so far and publishes them as a
   * partial result: a file goes to a free name beside the target such as
   * `results.partial.csv` (never over an existing file), never to the target itself. Returns that
   * path, or null when the rows went out directly.
   */
  closePartial(): Promise<string | null>;
  /**
   * For a hard stop (a second Ctrl-C), synchronously: keeps the rows already
   * in the temporary file under a free partial name and returns it; null
   * when the rows went out directly or that fails. Rows still buffered are
   * lost, and the file holds whole rows only.
   */
  abandonSync(): string | null;
}
