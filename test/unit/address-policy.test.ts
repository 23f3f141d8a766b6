import { describe, expect, it } from 'vitest';
import {
  addressPolicy,
  parseAllowedRange,
} from '../../src/core/address-policy.js';
import type { AllowedRange } from '../../src/core/address-policy.js';

function allowed(ip: string, cidrs: string[] = []): boolean {
  const ranges = cidrs.map((c) => parseAllowedRange(c) as AllowedRange);
  return addressPolicy(ranges)(ip).allowed;
}

describe('addressPolicy', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1',
    '240.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
    '198.18.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:7f00:1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::1',
    '2001::1',
    '2001:db8::1',
    'not-an-ip',
    '127.1',
  ])('refuses %s', (ip) => {
    expect(allowed(ip)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows global unicast %s',
    (ip) => {
      expect(allowed(ip)).toBe(true);
    },
  );

  it('allows a special range the user named, and nothing beyond it', () => {
    expect(allowed('127.0.0.5', ['127.0.0.0/8'])).toBe(true);
    expect(allowed('::ffff:127.0.0.5', ['127.0.0.0/8'])).toBe(true);
    expect(allowed('10.0.0.1', ['127.0.0.0/8'])).toBe(false);
    expect(allowed('::1', ['127.0.0.0/8'])).toBe(false);
    expect(allowed('::1', ['::1'])).toBe(true);
    expect(allowed('10.9.8.7', ['10.9.8.7'])).toBe(true);
    expect(allowed('10.9.8.6', ['10.9.8.7'])).toBe(false);
  });

  it('names the range it refused', () => {
    expect(addressPolicy([])('169.254.169.254')).toEqual({
      allowed: false,
      range: 'linkLocal',
    });
  });
});

describe('parseAllowedRange', () => {
  it.each(['127.0.0.0/8', '::1/128', '10.0.0.1', 'fd00::/8'])(
    'takes %s',
    (c) => {
      expect(parseAllowedRange(c)).not.toBeNull();
    },
  );
  it.each(['127.0.0.0/33', 'example.com', '', '10.0.0.0/x'])(
    'refuses %s',
    (c) => {
      expect(parseAllowedRange(c)).toBeNull();
    },
  );
});
