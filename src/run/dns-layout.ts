import {
  MAX_IN_FLIGHT_PER_SOCKET,
  UDP_SOCKET_IN_FLIGHT,
} from '../adapters/dns/socket-limits.js';

/**
 * The DNS client: ours over pipelined TCP, falling back to UDP for a server
 * that will not do TCP (`auto`, the default), over UDP or TCP only, or
 * node:dns (c-ares).
 */
export const DNS_CLIENTS = ['auto', 'udp', 'tcp', 'cares'] as const;
export type DnsClient = (typeof DNS_CLIENTS)[number];

/** Whether `value` names a {@link DnsClient}. */
export function isDnsClient(value: string): value is DnsClient {
  return (DNS_CLIENTS as readonly string[]).includes(value);
}

/** Queries in flight to one resolver at once unless `--in-flight` says otherwise. */
export const DEFAULT_IN_FLIGHT = 200;
/**
 * Pipelined TCP connections to each resolver (Unbound takes 10 a thread by
 * default), and the fewest UDP sockets.
 */
const CHANNELS = 2;
/** The most `--in-flight` takes: every TCP connection full. */
export const MAX_IN_FLIGHT = CHANNELS * MAX_IN_FLIGHT_PER_SOCKET;

/**
 * How `inFlight` queries spread over a resolver's channels. TCP:
 * {@link CHANNELS} pipelined connections sharing them. UDP and c-ares:
 * sockets of at most 100 queries each, {@link CHANNELS} at least.
 */
export function channelLayout(
  client: DnsClient,
  inFlight: number,
): { channels: number; perChannel: number } {
  const fewest = Math.min(CHANNELS, inFlight);
  const channels =
    client === 'tcp' || client === 'auto'
      ? fewest
      : Math.max(fewest, Math.ceil(inFlight / UDP_SOCKET_IN_FLIGHT));
  return { channels, perChannel: Math.ceil(inFlight / channels) };
}
