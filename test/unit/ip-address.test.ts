import { describe, it, expect } from 'vitest';
import { ipToNumber, numberToIp } from '../../src/core/ip-address.js';

describe('ipToNumber / numberToIp', () => {
  it.each([
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['1.2.3.4', 0x01020304],
    ['::ffff:1.2.3.4', 0x01020304],
  ])('%s is IPv4 %d', (ip, n) => {
    expect(ipToNumber(ip)).toEqual({ v: 4, n });
    expect(numberToIp({ v: 4, n })).toBe(ip.replace('::ffff:', ''));
  });

  it('reads IPv6 as 128-bit', () => {
    expect(ipToNumber('::')).toEqual({ v: 6, n: 0n });
    expect(ipToNumber('2001:db8::1')).toEqual({
      v: 6,
      n: 0x20010db8000000000000000000000001n,
    });
    expect(numberToIp({ v: 6, n: 0x20010db8000000000000000000000001n })).toBe(
      '2001:db8::1',
    );
  });

  it.each(['', 'x', '1.2.3', '1.2.3.4.5', '300.1.1.1', ':::', '127.1'])(
    '%j is not an address',
    (ip) => {
      expect(ipToNumber(ip)).toBeNull();
    },
  );
});
