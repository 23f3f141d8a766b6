import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressPolicy } from '../core/address-policy.js';
import {
  EXCHANGE_HEADERS,
  bestBuild,
  buildFromExportTool,
  buildFromLogonPage,
  buildFromOwaHeader,
} from '../core/exchange-probe.js';
import type {
  CertificateSummary,
  ExchangeProbePort,
  HostProbe,
  ProbeRequest,
  ProbeStatus,
  ProbeTarget,
} from '../core/exchange-probe.js';
import { GenerationalCache } from '../core/lru.js';
import { cap } from '../core/untrusted-text.js';

/** The probe's settings, resolved (see the CLI's `--probe-*` options). */
export interface ProberOptions {
  /** Which addresses may be contacted. */
  policy: AddressPolicy;
  /** TCP port of HTTPS. Default 443. */
  port: number;
  /** Deadline of each request (connect, TLS, response, body) in ms. */
  timeoutMs: number;
  /** Hosts probed at once in this process or thread. */
  concurrency: number;
  /** Requests to one address at once. Default 2. */
  perAddress?: number;
  /** Body bytes read per response. Default 256 KiB. */
  maxBytes?: number;
  /** Same-host redirects followed per request. Default 3. */
  maxRedirects?: number;
  /** Hosts remembered (each probed once per run). Default 20 000. */
  remember?: number;
  userAgent: string;
}

export const OWA_PATH = '/owa/';
export const EXPORT_TOOL_PATH =
  '/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application';

const HEADERS_KEPT = [
  ...EXCHANGE_HEADERS,
  'server',
  'location',
  'content-type',
  'x-powered-by',
];
const MAX_HEADER_CHARS = 256;

/** A small counting semaphore. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {
    this.free = size;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
  /** Nothing running, nothing waiting. */
  get unused(): boolean {
    return this.free === this.size && this.waiting.length === 0;
  }
}

/** One response as read: what the probe logs and parses. */
interface Fetched {
  log: ProbeRequest;
  body: string;
  headers: IncomingMessage['headers'];
  certificate: CertificateSummary | null;
}

/**
 * The HTTPS prober: a few GETs a browser would send, to the address the
 * scan resolved, with the host name as SNI and Host header. Each host is
 * probed once per run (the answer is remembered), at most `concurrency`
 * hosts at once and `perAddress` requests per address at once.
 */
export function createHttpsProber(options: ProberOptions): ExchangeProbePort {
  const o = {
    perAddress: 2,
    maxBytes: 256 * 1024,
    maxRedirects: 3,
    remember: 20_000,
    ...options,
  };
  const global = new Slots(o.concurrency);
  const perAddress = new Map<string, Slots>();
  const seen = new GenerationalCache<string, Promise<HostProbe>>(o.remember);

  const atAddress = <T>(ip: string, task: () => Promise<T>): Promise<T> => {
    let slots = perAddress.get(ip);
    if (!slots) perAddress.set(ip, (slots = new Slots(o.perAddress)));
    const s = slots;
    return s.run(task).finally(() => {
      if (s.unused && perAddress.get(ip) === s) perAddress.delete(ip);
    });
  };

  async function probeHost(target: ProbeTarget): Promise<HostProbe> {
    const result: HostProbe = {
      host: target.host,
      address: target.addresses[0] ?? '',
      port: o.port,
      status: 'no-address',
      error: '',
      build: '',
      builds: [],
      certificate: null,
      requests: [],
    };
    if (target.addresses.length === 0) return result;
    const address = target.addresses.find((ip) => o.policy(ip).allowed);
    if (address === undefined) {
      const refused = o.policy(result.address);
      result.status = 'blocked-address';
      result.error = `special-purpose address (${refused.allowed ? '' : refused.range}); allow it with --probe-allow`;
      return result;
    }
    result.address = address;
    return global.run(() => walk(result, address));
  }

  /** The requests of one host, in turn. */
  async function walk(result: HostProbe, address: string): Promise<HostProbe> {
    const owa = await follow(result, address, OWA_PATH);
    const header = owa.find((f) => f.headers['x-owa-version'] !== undefined);
    const fromHeader = buildFromOwaHeader(
      first(header?.headers['x-owa-version']),
    );
    if (fromHeader) {
      result.builds.push({ source: 'x-owa-version', build: fromHeader });
    }
    const last = owa[owa.length - 1];
    const fromPage = last ? buildFromLogonPage(last.body) : null;
    if (fromPage) result.builds.push({ source: 'owa-path', build: fromPage });
    const answered = owa.some((f) => f.log.httpStatus !== null);
    if (answered && !fromHeader) {
      const tool = await follow(result, address, EXPORT_TOOL_PATH);
      const end = tool[tool.length - 1];
      const fromTool =
        end && end.log.httpStatus === 200
          ? buildFromExportTool(end.body)
          : null;
      if (fromTool)
        result.builds.push({ source: 'exporttool', build: fromTool });
    }
    result.build = bestBuild(result.builds);
    result.status = verdict(result);
    return result;
  }

  /** GETs `path`, following redirects on the same host. */
  async function follow(
    result: HostProbe,
    address: string,
    path: string,
  ): Promise<Fetched[]> {
    const chain: Fetched[] = [];
    let next: string | null = path;
    for (let hop = 0; next !== null && hop <= o.maxRedirects; hop++) {
      const target: string = next;
      const f = await atAddress(address, () => get(result, address, target));
      chain.push(f);
      result.requests.push(f.log);
      result.certificate ??= f.certificate;
      next = null;
      const status = f.log.httpStatus ?? 0;
      const location = first(f.headers.location);
      if (status >= 300 && status < 400 && location) {
        next = sameHostPath(location, result.host, o.port, target);
        if (next === null) f.log.outcome = 'redirected';
      }
    }
    return chain;
  }

  function get(
    result: HostProbe,
    address: string,
    path: string,
  ): Promise<Fetched> {
    const started = Date.now();
    const log: ProbeRequest = {
      method: 'GET',
      path: cap(path, 512),
      httpStatus: null,
      outcome: '',
      error: '',
      headers: {},
      bytes: 0,
      truncated: false,
      ms: 0,
    };
    const named = !isIpLiteral(result.host);
    const hostHeader =
      (named ? result.host : bracket(result.host)) +
      (o.port === 443 ? '' : `:${o.port}`);
    return new Promise<Fetched>((resolve) => {
      let phase: 'connect' | 'tls' | 'http' = 'connect';
      let certificate: CertificateSummary | null = null;
      let headers: IncomingMessage['headers'] = {};
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (failure?: ProbeStatus, error?: unknown): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        log.ms = Date.now() - started;
        if (failure) {
          log.outcome = failure;
          log.error = cap(describe(error), 256);
        }
        req.destroy();
        resolve({
          log,
          body: Buffer.concat(chunks).toString('latin1'),
          headers,
          certificate,
        });
      };
      const req = https.request({
        // The resolved address itself: no second, unpinned lookup (and a
        // lookup function that refuses, should one ever be attempted).
        host: address,
        port: o.port,
        path,
        method: 'GET',
        ...(named ? { servername: result.host } : {}),
        headers: {
          Host: hostHeader,
          'User-Agent': o.userAgent,
          Accept: '*/*',
          Connection: 'close',
        },
        agent: false,
        // A fingerprint, not a login: any certificate is accepted and summarised.
        rejectUnauthorized: false,
        lookup: (_name, _opts, callback) => {
          callback(
            new Error(
              'name lookup refused: the probe connects to resolved addresses only',
            ),
            '',
            4,
          );
        },
      });
      const timer = setTimeout(
        () =>
          finish(
            'timeout',
            new Error(`no answer within ${o.timeoutMs} ms (${phase})`),
          ),
        o.timeoutMs,
      );
      req.on('socket', (socket) => {
        socket.once('connect', () => (phase = 'tls'));
        socket.once('secureConnect', () => {
          phase = 'http';
          certificate = summariseCertificate(socket as TLSSocket);
        });
      });
      req.on('response', (res) => {
        log.httpStatus = res.statusCode ?? null;
        headers = res.headers;
        for (const name of HEADERS_KEPT) {
          const value = first(res.headers[name]);
          if (value !== undefined)
            log.headers[name] = cap(value, MAX_HEADER_CHARS);
        }
        res.on('data', (chunk: Buffer) => {
          const room = o.maxBytes - log.bytes;
          if (chunk.length >= room) {
            chunks.push(chunk.subarray(0, room));
            log.bytes += room;
            log.truncated = true;
            finish();
            return;
          }
          chunks.push(chunk);
          log.bytes += chunk.length;
        });
        res.on('end', () => finish());
        res.on('error', (err) => finish(failureOf(err, phase), err));
      });
      req.on('error', (err) => finish(failureOf(err, phase), err));
      req.end();
    });
  }

  return {
    probe(target) {
      const key = `${target.host}|${target.addresses.join(',')}`;
      let pending = seen.get(key);
      if (!pending) {
        pending = probeHost(target).catch((err: unknown): HostProbe => ({
          host: target.host,
          address: target.addresses[0] ?? '',
          port: o.port,
          status: 'error',
          error: cap(describe(err), 256),
          build: '',
          builds: [],
          certificate: null,
          requests: [],
        }));
        seen.set(key, pending);
      }
      return pending;
    },
  };
}

/** The host's overall status from its builds and requests. */
function verdict(result: HostProbe): ProbeStatus {
  const exchangeHeader = result.requests.some((r) =>
    EXCHANGE_HEADERS.some((h) => r.headers[h] !== undefined),
  );
  if (result.build !== '' || exchangeHeader) return 'ok';
  if (result.requests.some((r) => r.outcome === 'redirected')) {
    return 'redirected';
  }
  if (result.requests.some((r) => r.httpStatus !== null)) return 'not-exchange';
  return result.requests[0]?.outcome || 'error';
}

function failureOf(
  err: unknown,
  phase: 'connect' | 'tls' | 'http',
): ProbeStatus {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(code)) {
    return 'unreachable';
  }
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || phase === 'tls') {
    return 'tls-error';
  }
  if (code.startsWith('HPE_')) return 'http-error';
  return 'error';
}

/**
 * The path of a redirect that stays on `host` over HTTPS on the same port,
 * else null (another host is never contacted).
 */
export function sameHostPath(
  location: string,
  host: string,
  port: number,
  from: string,
): string | null {
  let url: URL;
  const base = `https://${isIpLiteral(host) ? bracket(host) : host}${port === 443 ? '' : `:${port}`}`;
  try {
    url = new URL(location, base + from);
  } catch {
    return null;
  }
  const origin = new URL(base);
  if (url.protocol !== 'https:' || url.host !== origin.host) return null;
  return url.pathname + url.search;
}

function summariseCertificate(socket: TLSSocket): CertificateSummary | null {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return null;
  const subject = distinguishedName(cert.subject);
  const issuer = distinguishedName(cert.issuer);
  const validTo = new Date(cert.valid_to);
  return {
    subject,
    sans: (cert.subjectaltname ?? '')
      .split(/,\s*/)
      .filter(Boolean)
      .slice(0, 32)
      .map((s) => cap(s, 255)),
    issuer,
    validTo: Number.isNaN(validTo.getTime()) ? '' : validTo.toISOString(),
    selfSigned: subject === issuer,
  };
}

function distinguishedName(dn: unknown): string {
  if (!dn || typeof dn !== 'object') return '';
  const parts = Object.entries(dn as Record<string, unknown>).map(
    ([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`,
  );
  return cap(parts.join(', '), 512);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function bracket(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
