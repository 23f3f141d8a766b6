/**
 * The {@link DnsPort} on Node's c-ares resolver: several c-ares channels per
 * server, our own per-try deadline, and our own rotation across servers.
 * Kept for `--dns-client cares`: Node's client, a yardstick for our own.
 */
import { isUtf8 } from 'node:buffer';
import { Resolver } from 'node:dns';
import type {
  DnsPort,
  QueryResult,
  QueryStatus,
  QueryType,
  RdataOf,
} from '../../core/dns.js';
import {
  CANCELLED,
  TIMED_OUT,
  errorOutcome,
  isRetryable,
  toQueryResult,
} from './outcome.js';
import type { TryOutcome } from './outcome.js';
import {
  ResolverConfigError,
  integerOption,
  serversOption,
} from './resolver-options.js';

/** Options of {@link createCaresResolver}. */
export interface CaresResolverOptions {
  /** 'ip' or 'ip:port' or '[ipv6]:port'; at least one. */
  servers: string[];
  /**
   * Per-try deadline in ms, enforced by us with a timer (c-ares' own timeouts
   * drift). An upper bound: c-ares may give up on a try sooner, see the note
   * in {@link createCaresResolver}. Default 2000.
   */
  timeoutMs?: number;
  /** Extra tries after the first, each on the NEXT server in rotation. Default 2. */
  retries?: number;
  /** How many c-ares Resolver instances per server (spread load; each c-ares socket drops bursts above ~200-300 in flight on loopback). Default 2. */
  instancesPerServer?: number;
  /**
   * Most queries in flight on one c-ares instance; more wait in line (the
   * wait counts in `ms`, not against `timeoutMs`). A burst larger than a UDP
   * socket's receive buffer (about 256 datagrams at Linux defaults) is
   * dropped, which would show as timeouts. Default 100.
   */
  maxInFlightPerInstance?: number;
}

/** The resolver built by {@link createCaresResolver}. */
export type CaresResolver = DnsPort & {
  /** Cancels in-flight queries (they end as `error` ECANCELLED) and refuses new ones. */
  close(): void;
  /** The normalised server specs, in rotation order. */
  servers: readonly string[];
};

const DEFAULTS = {
  timeoutMs: 2000,
  retries: 2,
  instancesPerServer: 2,
  maxInFlightPerInstance: 100,
};

type Callback = (err: NodeJS.ErrnoException | null, raw?: unknown) => void;

const STATUS_OF_CODE: Readonly<Record<string, QueryStatus>> = {
  ENODATA: 'nodata',
  ENOTFOUND: 'nxdomain',
  ETIMEOUT: 'timeout',
  ESERVFAIL: 'servfail',
  EREFUSED: 'refused',
};

function fromError(err: unknown): TryOutcome {
  const code =
    err !== null && typeof err === 'object' && 'code' in err
      ? String(err.code)
      : String(err);
  const status = STATUS_OF_CODE[code];
  return status ? { status, records: [] } : errorOutcome(code);
}

/** Lower-case, no trailing dot; the root ('.', or '' from c-ares) becomes ''. */
function hostname(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

// Any character above U+00FF: the text was not handed over as Latin-1.
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/**
 * A TXT record's text. c-ares hands its bytes over one byte per character
 * (Latin-1), so UTF-8 text (`café`, `✓`) would read as mojibake: bytes that
 * are valid UTF-8 are decoded as such, any others stay one character a byte
 * (lossless; the output escapes the control characters among them).
 */
function txtText(joined: string): string {
  if (BEYOND_LATIN1.test(joined)) return joined;
  const bytes = Buffer.from(joined, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : joined;
}

function toRecords(type: QueryType, raw: unknown): RdataOf[QueryType][] {
  switch (type) {
    case 'MX':
      return (raw as { exchange: string; priority: number }[]).map((r) => ({
        exchange: hostname(r.exchange),
        priority: r.priority,
      }));
    case 'CNAME':
      return (raw as string[]).map(hostname);
    case 'TXT':
      return (raw as string[][]).map((chunks) => txtText(chunks.join('')));
    case 'SRV':
      return (
        raw as {
          name: string;
          port: number;
          priority: number;
          weight: number;
        }[]
      ).map((r) => ({
        name: hostname(r.name),
        port: r.port,
        priority: r.priority,
        weight: r.weight,
      }));
    case 'A':
    case 'AAAA':
      return raw as string[];
  }
}

function fromAnswer(type: QueryType, raw: unknown): TryOutcome {
  // c-ares hands an empty list, not ENODATA, when the answer holds only a
  // CNAME whose target's records are not included.
  if (!Array.isArray(raw) || raw.length === 0) {
    return { status: 'nodata', records: [] };
  }
  return { status: 'ok', records: toRecords(type, raw) };
}

function ask(r: Resolver, name: string, type: QueryType, cb: Callback): void {
  switch (type) {
    case 'MX':
      return void r.resolveMx(name, cb);
    case 'A':
      return void r.resolve4(name, cb);
    case 'AAAA':
      return void r.resolve6(name, cb);
    case 'CNAME':
      return void r.resolveCname(name, cb);
    case 'TXT':
      return void r.resolveTxt(name, cb);
    case 'SRV':
      return void r.resolveSrv(name, cb);
  }
}

/** One c-ares channel, bound to one server, with its own in-flight cap. */
class Channel {
  private inFlight = 0;
  private closed = false;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly resolver: Resolver,
    private readonly maxInFlight: number,
  ) {}

  /** Ends queries in flight and in line as ECANCELLED. */
  close(): void {
    this.closed = true;
    this.resolver.cancel();
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** One try, raced against our own deadline. Never rejects. */
  try(name: string, type: QueryType, timeoutMs: number): Promise<TryOutcome> {
    if (this.closed) return Promise.resolve(CANCELLED);
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return this.send(name, type, timeoutMs);
    }
    // release() hands its slot over to the first in line.
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(
      () => (this.closed ? CANCELLED : this.send(name, type, timeoutMs)),
    );
  }

  private send(
    name: string,
    type: QueryType,
    timeoutMs: number,
  ): Promise<TryOutcome> {
    return new Promise<TryOutcome>((resolve) => {
      // Not resolver.cancel() on expiry: it cancels every query on the
      // channel. The late answer is ignored (the promise is settled) but
      // keeps its in-flight slot until c-ares gives up on it.
      const timer = setTimeout(resolve, timeoutMs, TIMED_OUT);
      try {
        ask(this.resolver, name, type, (err, raw) => {
          clearTimeout(timer);
          this.release();
          try {
            resolve(err ? fromError(err) : fromAnswer(type, raw));
          } catch (thrown) {
            resolve(fromError(thrown));
          }
        });
      } catch (thrown) {
        clearTimeout(timer);
        this.release();
        resolve(fromError(thrown));
      }
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}

/**
 * Creates a {@link DnsPort} on `node:dns` (c-ares). Each query starts on the
 * next server round-robin; a timeout, SERVFAIL, REFUSED or connection failure
 * moves it to the following server, up to `retries` more tries. NXDOMAIN,
 * NODATA and answers are final.
 *
 * Note: c-ares may end a try before `timeoutMs` (its timeouts adapt to the
 * server's latency); `timeoutMs` bounds a try, it does not guarantee it.
 *
 * @throws ResolverConfigError (`EXO_BAD_RESOLVER`) on a bad server or option.
 */
export function createCaresResolver(
  options: CaresResolverOptions,
): CaresResolver {
  const servers = serversOption(options.servers);
  const timeoutMs = integerOption(
    'timeoutMs',
    options.timeoutMs,
    DEFAULTS.timeoutMs,
    1,
  );
  const retries = integerOption(
    'retries',
    options.retries,
    DEFAULTS.retries,
    0,
  );
  const perServer = integerOption(
    'instancesPerServer',
    options.instancesPerServer,
    DEFAULTS.instancesPerServer,
    1,
  );
  const maxInFlight = integerOption(
    'maxInFlightPerInstance',
    options.maxInFlightPerInstance,
    DEFAULTS.maxInFlightPerInstance,
    1,
  );

  // channels[s * perServer + i] is channel i of server s. Each channel knows
  // one server and tries once: c-ares does not move on after SERVFAIL, so the
  // rotation is ours.
  // `timeout` is only c-ares' first guess: after 3 answers from a server,
  // c-ares 1.32+ uses 5x that server's mean latency (floor 250 ms, cap 5 s),
  // and Node checks c-ares timeouts only every min(timeout, 1000) ms. So on a
  // warm channel a try may end as ETIMEOUT after ~1 s whatever timeoutMs is;
  // our own timer is the upper bound.
  const resolverFor = (server: string): Resolver => {
    const r = new Resolver({ timeout: timeoutMs, tries: 1 });
    try {
      r.setServers([server]);
    } catch (err) {
      throw new ResolverConfigError(
        `Bad DNS server ${JSON.stringify(server)}: ${(err as Error).message}`,
      );
    }
    return r;
  };
  const channels: Channel[] = [];
  for (const server of servers) {
    for (let i = 0; i < perServer; i++) {
      channels.push(new Channel(resolverFor(server), maxInFlight));
    }
  }

  // c-ares drops the socket on a reply it cannot parse and ends every query
  // in flight on it with EBADRESP, not only the one the garbage answered. So
  // a try after EBADRESP runs alone on a channel of its own: the victims get
  // their answer, and a server that keeps sending garbage harms one query.
  const solos = new Set<Channel>();
  const soloTry = async (
    server: string,
    name: string,
    type: QueryType,
  ): Promise<TryOutcome> => {
    const solo = new Channel(resolverFor(server), 1);
    solos.add(solo);
    try {
      return await solo.try(name, type, timeoutMs);
    } finally {
      solos.delete(solo);
      solo.close();
    }
  };

  const n = servers.length;
  let cursor = 0;
  let closed = false;

  async function query<T extends QueryType>(
    name: string,
    type: T,
  ): Promise<QueryResult<T>> {
    const started = performance.now();
    const ticket = cursor;
    cursor = (cursor + 1) % (n * perServer);
    const first = ticket % n;
    const slot = Math.floor(ticket / n);
    let server = first;
    let outcome = CANCELLED;
    for (let t = 0; !closed; t++) {
      server = (first + t) % n;
      const channel = channels[server * perServer + slot] as Channel;
      outcome =
        outcome.error === 'EBADRESP'
          ? await soloTry(servers[server] as string, name, type)
          : await channel.try(name, type, timeoutMs);
      if (t >= retries || !isRetryable(outcome)) break;
    }
    return toQueryResult(
      name,
      type,
      outcome,
      servers[server] as string,
      started,
    );
  }

  return {
    servers,
    query,
    close() {
      closed = true;
      for (const channel of [...channels, ...solos]) channel.close();
    },
  };
}
