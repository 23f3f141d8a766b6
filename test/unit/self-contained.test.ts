import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';

// The project needs nothing outside its repository: no file may point at a
// folder beside the clone or at an environment variable naming one.
const FORBIDDEN = [
  ['..', 'shared'].join('/'),
  ['shared', 'bench'].join('/'),
  ['EXOSCOPE', 'BENCH', 'DIR'].join('_'),
];
const SKIP = new Set([
  'node_modules',
  'dist',
  '.git',
  'coverage',
  'bench-results',
]);

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

describe('the repository', () => {
  it('refers to nothing outside itself', () => {
    const hits: string[] = [];
    for (const file of files(REPO)) {
      const text = readFileSync(file, 'utf8');
      for (const needle of FORBIDDEN) {
        if (text.includes(needle))
          hits.push(`${relative(REPO, file)}: ${needle}`);
      }
    }
    expect(hits).toEqual([]);
  });
});
