/**
 * One server as the socket resolver's channels see it: where to reach it
 * and what it does with the letter case of query names (DNS 0x20).
 */
import { isIPv6 } from 'node:net';

/**
 * What a server does with the letter case of a query name (DNS 0x20):
 * `unknown` until it echoes a mixed-case name letter for letter (`echoes`)
 * or answers one in another case over TCP (`blind`: it gets plain queries).
 * A UDP reply in another case never decides, whatever the habit: it may be
 * a forgery that guessed the id, so its query is asked again over TCP,
 * which an off-path forger cannot reach. A server without TCP that never
 * echoes the case is taken for `blind` after a few such TCP tries failed
 * to connect (`CASE_MISMATCHES` in socket-resolver.ts).
 */
export type CaseHabit = 'unknown' | 'echoes' | 'blind';

/** A server of the rotation: its spec, address and case habit. */
export interface ServerAddress {
  spec: string;
  host: string;
  port: number;
  family: 4 | 6;
  caseHabit: CaseHabit;
  /** TCP tries after a reply in another case that failed to connect. */
  caseMismatches: number;
}

/** The address in a spec normalised by `parseServer` (`ip:port`, `[ipv6]:port`). */
export function serverAddress(spec: string): ServerAddress {
  const colon = spec.lastIndexOf(':');
  const host = spec.slice(0, colon).replace(/^\[|\]$/g, '');
  return {
    spec,
    host,
    port: Number(spec.slice(colon + 1)),
    family: isIPv6(host) ? 6 : 4,
    caseHabit: 'unknown',
    caseMismatches: 0,
  };
}
