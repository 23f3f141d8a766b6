import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classificationDoc } from '../../src/core/classification-doc.js';
import { RULES } from '../../src/core/classify.js';
import { MX_SIGNATURES } from '../../src/core/signatures.js';

describe('docs/classification.md', () => {
  it('is generated from the current tables (run `npm run docs`)', () => {
    const committed = readFileSync(
      new URL('../../docs/classification.md', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(classificationDoc());
  });

  it('names every rule and signature id', () => {
    const doc = classificationDoc();
    for (const id of [
      ...RULES.map((r) => r.id),
      ...MX_SIGNATURES.map((s) => s.id),
    ]) {
      expect(doc).toContain(`\`${id}\``);
    }
  });

  it('has unique ids', () => {
    const ids = [...RULES.map((r) => r.id), ...MX_SIGNATURES.map((s) => s.id)];
    expect(new Set(ids).size).toBe(ids.length);
  });
});
