/** Records for the fake DNS server, and the CLI's flags to ask it. */
import type { FakeDnsServer, FakeRecord } from './dns-server.js';

export const mx = (
  name: string,
  exchange: string,
  preference = 10,
): FakeRecord => ({ name, type: 'MX', data: { preference, exchange } });
export const a = (name: string, ip: string): FakeRecord => ({
  name,
  type: 'A',
  data: ip,
});
export const cname = (name: string, target: string): FakeRecord => ({
  name,
  type: 'CNAME',
  data: target,
});
export const txt = (name: string, data: string | string[]): FakeRecord => ({
  name,
  type: 'TXT',
  data,
});

/**
 * The CLI's DNS options for a fake server, without IP owner lookups; with
 * `timeoutMs`, that per-query deadline and no retry (for names never answered).
 */
export function dnsArgs(server: FakeDnsServer, timeoutMs?: number): string[] {
  const args = ['--resolver', server.address, '--asn-source', 'none'];
  if (timeoutMs === undefined) return args;
  return [...args, '--timeout', String(timeoutMs), '--retries', '0'];
}

/** Names the fake server was asked about, lower-case, in arrival order. */
export function askedNames(server: FakeDnsServer): string[] {
  return server.queries.map((q) => q.name.toLowerCase());
}
