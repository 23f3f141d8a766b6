/**
 * An ASN source over a table loaded once: the port it offers, and the
 * load-once lookup the packaged and file sources share.
 */
import type { AsnTable } from '../../core/asn-table.js';
import { noOwner } from '../../core/ip-owner.js';
import type { AsnPort, IpOwner } from '../../core/ip-owner.js';

/** An {@link AsnPort} backed by data that is loaded once. */
export interface LoadableAsnPort extends AsnPort {
  /**
   * Loads the data now rather than on the first lookup; concurrent and later
   * calls share the one load. The packaged source never rejects (a failure
   * becomes a warning); the file source rejects with `AsnSourceError`.
   */
  load(): Promise<void>;
  /** Problems met while loading, for the run's report; empty when none. */
  warnings(): string[];
  /** Number of ranges loaded (0 before loading or after a failure). */
  size(): number;
}

/** A lookup over a table that is loaded once, on first use. */
export class LoadedSource implements LoadableAsnPort {
  private table: AsnTable | undefined;
  private loading: Promise<void> | undefined;
  private failed = false;
  private failure: unknown;
  private readonly warned: string[] = [];

  constructor(
    private readonly loadTable: () => Promise<AsnTable>,
    private readonly onFailure: (err: unknown) => string,
    private readonly rethrow: boolean,
  ) {}

  load(): Promise<void> {
    this.loading ??= this.loadTable().then(
      (table) => {
        this.table = table;
      },
      (err: unknown) => {
        this.failed = true;
        this.failure = err;
        this.warned.push(this.onFailure(err));
      },
    );
    return this.rethrow
      ? this.loading.then(() => {
          if (this.failed) throw this.failure;
        })
      : this.loading;
  }

  async lookup(ip: string): Promise<IpOwner> {
    try {
      if (!this.table) await this.load().catch(() => undefined);
      return this.table?.lookup(ip) ?? noOwner();
    } catch {
      return noOwner();
    }
  }

  warnings(): string[] {
    return [...this.warned];
  }

  size(): number {
    return this.table?.size ?? 0;
  }
}
