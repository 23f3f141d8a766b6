import { describe, expect, it } from 'vitest';
import { createCaresResolver } from '../../../src/adapters/dns/cares-resolver.js';
import type { CaresResolverOptions } from '../../../src/adapters/dns/cares-resolver.js';
import { resolverContract } from '../../helpers/resolver-contract.js';

// The behaviour both DNS clients share (records, NXDOMAIN/NODATA, rotation,
// deadlines, TCP fallback, bad replies, close) is one contract; this file
// adds what only the node:dns adapter has.
resolverContract('node:dns', (options) => createCaresResolver(options));

describe('configuration', () => {
  it.each<[string, CaresResolverOptions]>([
    ['no servers', { servers: [] }],
    ['a bad server', { servers: ['127.0.0.1', 'foo'] }],
    ['timeoutMs 0', { servers: ['127.0.0.1'], timeoutMs: 0 }],
    ['retries -1', { servers: ['127.0.0.1'], retries: -1 }],
    [
      'instancesPerServer 1.5',
      { servers: ['127.0.0.1'], instancesPerServer: 1.5 },
    ],
    [
      'maxInFlightPerInstance 0',
      { servers: ['127.0.0.1'], maxInFlightPerInstance: 0 },
    ],
  ])('createCaresResolver rejects %s', (_what, options) => {
    expect(() => createCaresResolver(options)).toThrow(
      expect.objectContaining({ code: 'EXO_BAD_RESOLVER' }),
    );
  });

  it('exposes the normalised servers', () => {
    const r = createCaresResolver({ servers: ['127.0.0.1', '::1'] });
    expect(r.servers).toEqual(['127.0.0.1:53', '[::1]:53']);
    r.close();
  });
});
