import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Files run side by side: every server a test starts listens on a port
    // the OS hands out, and every test keeps to Redis keys of its own. Most
    // integration tests wait on child processes and deadlines, so two files
    // more than there are cores keep the cores busy (2 cores: 3 files took
    // 150 s for `npm test`, 4 files 143 s).
    fileParallelism: true,
    maxWorkers: availableParallelism() + 2,
    // No module state is shared between test files (the core has none, the
    // helpers none), so a worker keeps its imports from one file to the next
    // instead of loading and transforming them again for every file.
    isolate: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          pool: 'threads',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
        },
      },
    ],
  },
});
