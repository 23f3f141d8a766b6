import { describe, expect, it } from 'vitest';
import {
  createNodeDnsResolver,
  parseServer,
} from '../../../src/adapters/dns/cares-resolver.js';
import type { ResolverOptions } from '../../../src/adapters/dns/cares-resolver.js';
import { resolverContract } from '../../helpers/resolver-contract.js';

// The behaviour both DNS clients share (records, NXDOMAIN/NODATA, rotation,
// deadlines, TCP fallback, bad replies, close) is one contract; this file
// adds what only the node:dns adapter has.
resolverContract('node:dns', (options) => createNodeDnsResolver(options));

describe('configuration', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1:53'],
    ['127.0.0.1:5353', '127.0.0.1:5353'],
    [' 192.0.2.1:53 ', '192.0.2.1:53'],
    ['[::1]:53', '[::1]:53'],
    ['[::1]', '[::1]:53'],
    ['::1', '[::1]:53'],
    ['2001:DB8::53', '[2001:db8::53]:53'],
  ])('parseServer accepts %j', (spec, normalised) => {
    expect(parseServer(spec)).toBe(normalised);
  });

  it.each([
    'foo',
    '',
    '1.2.3.4:99999',
    '1.2.3.4:0',
    '1.2.3.4:',
    '1.2.3.4:53x',
    '300.1.1.1',
    '[1.2.3.4]:53',
    '[::1]:',
    'dns.google:53',
  ])('parseServer rejects %j', (spec) => {
    expect(() => parseServer(spec)).toThrow(
      expect.objectContaining({ code: 'EXO_BAD_RESOLVER' }),
    );
  });

  it.each<[string, ResolverOptions]>([
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
  ])('createNodeDnsResolver rejects %s', (_what, options) => {
    expect(() => createNodeDnsResolver(options)).toThrow(
      expect.objectContaining({ code: 'EXO_BAD_RESOLVER' }),
    );
  });

  it('exposes the normalised servers', () => {
    const r = createNodeDnsResolver({ servers: ['127.0.0.1', '::1'] });
    expect(r.servers).toEqual(['127.0.0.1:53', '[::1]:53']);
    r.close();
  });
});
