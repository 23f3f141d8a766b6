import { describe, expect, it } from 'vitest';
import {
  ResolverConfigError,
  choiceOption,
  integerOption,
  parseServer,
  serversOption,
} from '../../../src/adapters/dns/resolver-options.js';

const BAD_RESOLVER = expect.objectContaining({
  code: 'EXO_BAD_RESOLVER',
  name: 'ResolverConfigError',
});

describe('parseServer', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1:53'],
    ['127.0.0.1:5353', '127.0.0.1:5353'],
    [' 192.0.2.1:53 ', '192.0.2.1:53'],
    ['192.0.2.1:65535', '192.0.2.1:65535'],
    ['192.0.2.1:1', '192.0.2.1:1'],
    ['[::1]:53', '[::1]:53'],
    ['[::1]', '[::1]:53'],
    ['::1', '[::1]:53'],
    ['2001:DB8::53', '[2001:db8::53]:53'],
    ['[2001:DB8::53]:5353', '[2001:db8::53]:5353'],
  ])('accepts %j as %j', (spec, normalised) => {
    expect(parseServer(spec)).toBe(normalised);
  });

  it.each([
    'foo',
    '',
    ' ',
    '1.2.3.4:99999',
    '1.2.3.4:65536',
    '1.2.3.4:0',
    '1.2.3.4:',
    '1.2.3.4:53x',
    '1.2.3.4:-53',
    '300.1.1.1',
    '[1.2.3.4]:53',
    '[::1]:',
    '[::1]:0',
    '[foo]:53',
    'dns.google:53',
  ])('rejects %j', (spec) => {
    expect(() => parseServer(spec)).toThrow(BAD_RESOLVER);
  });

  it('rejects what is not a string', () => {
    expect(() => parseServer(53 as unknown as string)).toThrow(BAD_RESOLVER);
  });
});

describe('serversOption', () => {
  it('normalises every server, in order, into a frozen list', () => {
    const servers = serversOption(['::1', '127.0.0.1:5353', '192.0.2.1']);
    expect(servers).toEqual(['[::1]:53', '127.0.0.1:5353', '192.0.2.1:53']);
    expect(Object.isFrozen(servers)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['an empty list', []],
    ['no list', undefined],
    ['a string', '127.0.0.1'],
    ['a bad server among good ones', ['127.0.0.1', 'foo']],
  ])('rejects %s', (_what, servers) => {
    expect(() => serversOption(servers)).toThrow(BAD_RESOLVER);
  });
});

describe('integerOption', () => {
  it.each<[number | undefined, number, number, number | undefined, number]>([
    [undefined, 1, 100, undefined, 100],
    [1, 1, 100, undefined, 1],
    [0, 0, 2, undefined, 0],
    [4096, 1, 100, 4096, 4096],
    [2 ** 31 - 1, 1, 7, undefined, 2 ** 31 - 1],
  ])(
    'takes %j (min %j, default %j, max %j) as %j',
    (value, min, fallback, max, taken) => {
      expect(integerOption('x', value, fallback, min, max)).toBe(taken);
    },
  );

  it.each<[number, number, number | undefined]>([
    [0, 1, undefined],
    [-1, 0, undefined],
    [1.5, 1, undefined],
    [Number.NaN, 1, undefined],
    [Number.POSITIVE_INFINITY, 1, undefined],
    [2 ** 31, 1, undefined],
    [4097, 1, 4096],
  ])('rejects %j (min %j, max %j)', (value, min, max) => {
    expect(() => integerOption('x', value, 1, min, max)).toThrow(BAD_RESOLVER);
  });

  it('names the option in the error', () => {
    expect(() => integerOption('retries', -1, 2, 0, 10)).toThrow(
      /options\.retries/,
    );
  });
});

describe('choiceOption', () => {
  const CHOICES = ['udp', 'tcp', 'auto'] as const;

  it.each<[unknown, string]>([
    [undefined, 'udp'],
    ['udp', 'udp'],
    ['tcp', 'tcp'],
    ['auto', 'auto'],
  ])('takes %j as %j', (value, taken) => {
    expect(choiceOption('transport', value, CHOICES, 'udp')).toBe(taken);
  });

  it.each<unknown>(['quic', 'UDP', '', null, 1])('rejects %j', (value) => {
    expect(() => choiceOption('transport', value, CHOICES, 'udp')).toThrow(
      BAD_RESOLVER,
    );
  });

  it('names the option and its choices in the error', () => {
    expect(() => choiceOption('transport', 'quic', CHOICES, 'udp')).toThrow(
      /options\.transport must be udp, tcp or auto/,
    );
  });
});

it('ResolverConfigError is an Error with a stable code', () => {
  const err = new ResolverConfigError('x');
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('EXO_BAD_RESOLVER');
});
