import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory. */
export interface TempDir {
  path: string;
  /** Writes `content` to `name` in the directory; returns its path. */
  file(name: string, content: string | Buffer): string;
  /** Removes the directory and everything in it. */
  remove(): void;
}

export function tempDir(prefix = 'test'): TempDir {
  const path = mkdtempSync(join(tmpdir(), `exoscope-${prefix}-`));
  return {
    path,
    file(name, content) {
      const p = join(path, name);
      writeFileSync(p, content);
      return p;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/**
 * A tmpfs of `size` mounted on a fresh directory: a file system that fills
 * up. Null when mounting is not allowed (not root); `/dev/full` then stands
 * in for a full disk.
 */
export function smallTmpfs(size = '16k'): TempDir | null {
  const dir = tempDir('tmpfs');
  try {
    execFileSync('mount', [
      '-t',
      'tmpfs',
      '-o',
      `size=${size}`,
      'tmpfs',
      dir.path,
    ]);
  } catch {
    dir.remove();
    return null;
  }
  return {
    ...dir,
    remove() {
      execFileSync('umount', [dir.path]);
      dir.remove();
    },
  };
}
