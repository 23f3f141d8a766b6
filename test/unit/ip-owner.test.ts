import { describe, it, expect } from 'vitest';
import { MAX_ORG_LENGTH, sanitizeOrg } from '../../src/core/ip-owner.js';

describe('sanitizeOrg', () => {
  it('removes control and bidi characters and collapses space', () => {
    expect(sanitizeOrg(' Evil\u0000Corp\r\n\u001b[31m  Ltd\u202e ')).toBe(
      'Evil Corp [31m Ltd',
    );
  });

  it(`caps at ${MAX_ORG_LENGTH} characters without splitting a pair`, () => {
    expect(sanitizeOrg('a'.repeat(500))).toHaveLength(MAX_ORG_LENGTH);
    const emoji = 'a'.repeat(MAX_ORG_LENGTH - 1) + '😀';
    expect(sanitizeOrg(emoji)).toBe('a'.repeat(MAX_ORG_LENGTH - 1));
  });
});
