import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Files run side by side: every server a test starts listens on a port
    // the OS hands out, and every test keeps to Redis keys of its own. Most
    // integration tests wait on child processes and deadlines, so one file
    // more than there are cores keeps the cores busy.
    fileParallelism: true,
    maxWorkers: availableParallelism() + 1,
  },
});
