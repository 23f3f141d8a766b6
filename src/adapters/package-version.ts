import { readFileSync } from 'node:fs';

/** exoscope's version, from its package.json (for `--version` and the probe's User-Agent). */
export function packageVersion(): string {
  const pkg = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return pkg.version;
}
