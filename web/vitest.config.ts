import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['sdk/test/**/*.test.ts', 'app/test/**/*.test.ts'],
    benchmark: { include: ['sdk/bench/**/*.bench.ts'] },
    testTimeout: 20_000,
  },
});
