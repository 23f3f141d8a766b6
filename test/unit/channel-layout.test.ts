import { describe, expect, it } from 'vitest';
import { channelLayout } from '../../src/run/dns-layout.js';
import type { DnsClient } from '../../src/run/dns-layout.js';

describe('channelLayout', () => {
  it.each<[DnsClient, number, number, number]>([
    ['auto', 200, 2, 100],
    ['auto', 500, 2, 250],
    ['tcp', 8192, 2, 4096],
    ['tcp', 1, 1, 1],
    ['auto', 3, 2, 2],
    ['udp', 200, 2, 100],
    ['udp', 500, 5, 100],
    ['udp', 250, 3, 84],
    ['udp', 1, 1, 1],
    ['cares', 1000, 10, 100],
  ])(
    '%s with %i in flight: %i channels of %i',
    (client, inFlight, channels, perChannel) => {
      const layout = channelLayout(client, inFlight);
      expect(layout).toEqual({ channels, perChannel });
      // never less than asked for
      expect(layout.channels * layout.perChannel).toBeGreaterThanOrEqual(
        inFlight,
      );
    },
  );
});
