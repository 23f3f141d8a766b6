import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // integration and end-to-end suites start servers on fixed loopback ports
    fileParallelism: false,
  },
});
