/**
 * The in-flight limits of the socket DNS client, apart from the client so
 * that the command line can check its flags without loading it.
 */

/**
 * Most queries in flight on one UDP socket by default, and always on the UDP
 * sockets `auto` moves a server to: a burst of replies larger than a
 * socket's receive buffer (about 250 datagrams at Linux defaults) is lost.
 */
export const UDP_SOCKET_IN_FLIGHT = 100;

/** The most queries `maxInFlightPerSocket` allows on one socket or connection. */
export const MAX_IN_FLIGHT_PER_SOCKET = 4096;
