import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Legacy decorators with metadata for every decorated file, even one no tsconfig includes.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  // Workspace packages are tested from src/ through their "source" export condition.
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/build-fresh.ts', 'test/support/environment.ts', 'test/support/leak-check.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Two test files at once: they mostly wait on the processes they start, and one at a time
    // (the default on two CPUs) took 9 of the 10 minutes CI may take.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
