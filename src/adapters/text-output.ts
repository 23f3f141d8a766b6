import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OutputError } from './output-sink.js';
import { escapeControls } from '../core/untrusted-text.js';

/**
 * Writes a whole output file at once: to a temporary name beside it, renamed
 * into place, so a failed run never leaves half a file. An existing file is
 * replaced only with `force`.
 */
export async function writeOutputFile(
  path: string,
  content: string,
  force: boolean,
): Promise<void> {
  const name = escapeControls(path);
  if (existsSync(path)) {
    if (statSync(path).isDirectory())
      throw new OutputError(
        'EXO_OUTPUT_UNWRITABLE',
        `output ${name} is a directory`,
      );
    if (!force)
      throw new OutputError(
        'EXO_OUTPUT_EXISTS',
        `output ${name} exists; use --force to replace it`,
      );
  }
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new OutputError(
      'EXO_OUTPUT_UNWRITABLE',
      `cannot write ${name}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
}
