import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests build network namespaces: one file at a time keeps labs from contending for the 2 cores.
    fileParallelism: false,
  },
});
