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
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
