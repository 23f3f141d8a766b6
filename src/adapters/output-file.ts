/**
 * Where an output file goes, and how it is put there without replacing what
 * must not be replaced: what `-o` names (a new or existing regular file, a
 * FIFO or device written into directly, a symlink followed to its file), the
 * final publish (never over a file that appeared during the run, unless
 * --force), and free names for rows that cannot go under the real name.
 */
import {
  linkSync,
  lstatSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { link, lstat, rename, unlink } from 'node:fs/promises';
import { extname } from 'node:path';
import { escapeControls } from '../core/untrusted-text.js';

/** An output error: exit code 1 with a one-line message. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  constructor(
    readonly code:
      'EXO_OUTPUT_EXISTS' | 'EXO_OUTPUT_UNWRITABLE' | 'EXO_OUTPUT_NOT_FILE',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A path as shown in a message: control characters escaped. */
export const shownPath = (path: string): string => escapeControls(path);

/** What `-o` names, decided once before anything is written. */
export type OutputTarget =
  /** A regular file (new, or replaced with --force): temp file, then publish. */
  | { kind: 'file'; path: string }
  /** A FIFO or character device: written into directly, never replaced. */
  | { kind: 'device'; path: string; fifo: boolean };

/**
 * Decides how to write `path`: a FIFO or a character device (`/dev/null`,
 * `/dev/stdout` into a pipe) is written into; a regular file that exists is
 * an error unless `force`; a symlink is followed, and the file it names is
 * what is written (or replaced with `force`); a dangling symlink, a
 * directory, a block device or a socket is refused.
 */
export function resolveOutput(path: string, force: boolean): OutputTarget {
  let own: Stats;
  try {
    own = lstatSync(path);
  } catch {
    return { kind: 'file', path };
  }
  let st = own;
  let real = path;
  if (own.isSymbolicLink()) {
    try {
      st = statSync(path);
    } catch {
      throw new OutputError(
        'EXO_OUTPUT_NOT_FILE',
        `output ${shownPath(path)} is a symlink to nothing; give the file itself`,
      );
    }
    if (st.isFile()) real = realpathSync(path);
  }
  if (st.isDirectory()) {
    throw new OutputError(
      'EXO_OUTPUT_UNWRITABLE',
      `output ${shownPath(path)} is a directory`,
    );
  }
  if (st.isFIFO() || st.isCharacterDevice()) {
    return { kind: 'device', path, fifo: st.isFIFO() };
  }
  if (!st.isFile()) {
    throw new OutputError(
      'EXO_OUTPUT_NOT_FILE',
      `output ${shownPath(path)} is not a regular file, FIFO or character device; refusing to write it`,
    );
  }
  if (!force) {
    throw new OutputError(
      'EXO_OUTPUT_EXISTS',
      `output ${shownPath(path)} exists; use --force to replace it`,
    );
  }
  return { kind: 'file', path: real };
}

/**
 * Where an interrupted run leaves its rows: `results.partial.csv` for
 * `results.csv`, so that a partial result is never mistaken for a whole one.
 */
export function partialPath(path: string): string {
  return taggedPath(path, 'partial', 1);
}

/** `results.<tag>.csv`, then `results.<tag>-2.csv`, ... */
function taggedPath(path: string, tag: string, n: number): string {
  const ext = extname(path);
  const stem = path.slice(0, path.length - ext.length);
  return `${stem}.${tag}${n > 1 ? `-${n}` : ''}${ext}`;
}

/** Tries before giving up on finding a free name. */
const MAX_NAMES = 1000;

/** Errors of link(2) that mean "no hard links here", not "name taken". */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

const errno = (err: unknown): string | undefined =>
  (err as NodeJS.ErrnoException).code;

/**
 * Moves `from` to `to` only if `to` does not exist, atomically where the
 * file system has hard links: link (fails if `to` exists), then unlink.
 * Returns false when `to` exists. Without hard links, a check then a rename
 * (a short race, documented).
 */
async function moveNoReplace(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
  } catch (err) {
    if (errno(err) === 'EEXIST') return false;
    if (!NO_LINKS.has(errno(err) ?? '')) throw err;
    if (
      await lstat(to).then(
        () => true,
        () => false,
      )
    )
      return false;
    await rename(from, to);
    return true;
  }
  await unlink(from);
  return true;
}

function moveNoReplaceSync(from: string, to: string): boolean {
  try {
    linkSync(from, to);
  } catch (err) {
    if (errno(err) === 'EEXIST') return false;
    if (!NO_LINKS.has(errno(err) ?? '')) throw err;
    try {
      lstatSync(to);
      return false;
    } catch {
      renameSync(from, to);
      return true;
    }
  }
  unlinkSync(from);
  return true;
}

/**
 * Moves the finished temporary file `tmp` to a free name beside `path`
 * tagged `tag` (`results.partial.csv`, `results.partial-2.csv`, ...), never
 * over an existing file. Returns the name.
 */
export async function keepUnderFreeName(
  tmp: string,
  path: string,
  tag: string,
): Promise<string> {
  for (let n = 1; n <= MAX_NAMES; n++) {
    const name = taggedPath(path, tag, n);
    if (await moveNoReplace(tmp, name)) return name;
  }
  throw new OutputError(
    'EXO_OUTPUT_UNWRITABLE',
    `no free name like ${shownPath(taggedPath(path, tag, 1))}; the rows are in ${shownPath(tmp)}`,
  );
}

/** {@link keepUnderFreeName}, synchronously (for a hard stop); null on failure. */
export function keepUnderFreeNameSync(
  tmp: string,
  path: string,
  tag: string,
): string | null {
  try {
    for (let n = 1; n <= MAX_NAMES; n++) {
      const name = taggedPath(path, tag, n);
      if (moveNoReplaceSync(tmp, name)) return name;
    }
  } catch {
    // fall through: the rows stay in the temporary file
  }
  return null;
}

/**
 * Puts the finished temporary file `tmp` under `path`. Without `force`, a
 * file that exists at this moment (another run, another program) is never
 * replaced: the rows go to a free name (`results.new.csv`) and the error
 * says where. With `force`, only a regular file (or nothing) is replaced.
 */
export async function publish(
  tmp: string,
  path: string,
  force: boolean,
): Promise<void> {
  const fail = async (why: string): Promise<never> => {
    const kept = await keepUnderFreeName(tmp, path, 'new');
    throw new OutputError(
      'EXO_OUTPUT_EXISTS',
      `output ${shownPath(path)} ${why}; not replaced. This run's rows are in ${shownPath(kept)}`,
    );
  };
  if (!force) {
    if (await moveNoReplace(tmp, path)) return;
    return fail('was created by something else during the run');
  }
  const now = await lstat(path).catch(() => null);
  if (now && !now.isFile()) {
    return fail('was replaced by something that is not a regular file');
  }
  await rename(tmp, path);
}
