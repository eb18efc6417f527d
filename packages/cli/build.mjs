#!/usr/bin/env node
// Bundles the `drover` bin into bundle/drover.mjs (plus the chunks it loads lazily):
// `node packages/cli/build.mjs [out-dir]`. One file per path matters for start-up: unbundled,
// inversify alone loads ~250 modules.
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = process.argv[2] ?? join(here, 'bundle');

rmSync(outDir, { recursive: true, force: true });
await build({
  input: { drover: join(here, 'src/bin/drover.ts') },
  platform: 'node',
  // experimentalDecorators + emitDecoratorMetadata: inversify reads design:paramtypes.
  tsconfig: join(here, 'tsconfig.json'),
  // The workspace packages are bundled from their sources, so the bundle follows them.
  // Workers still load @drover/core's built worker preload from the package (core resolves it
  // by its own name), so core must be built too.
  resolve: { conditionNames: ['source', 'import', 'node', 'default'] },
  external: ['bullmq', 'ioredis'],
  // @drover/core's index only re-exports: marked free of side effects, the quick `status` path
  // loads the few modules it uses (discovery, the table) instead of every module the index names.
  treeshake: { moduleSideEffects: (id) => !/[\\/]packages[\\/]core[\\/]src[\\/]index\.ts$/.test(id) },
  output: {
    dir: outDir,
    format: 'esm',
    entryFileNames: '[name].mjs',
    chunkFileNames: 'chunks/[name]-[hash].mjs',
    banner: (chunk) => (chunk.isEntry ? '#!/usr/bin/env node' : ''),
    // no JSDoc in a bin: every command line compiles what it loads (licences are kept)
    comments: { legal: true, annotation: false, jsdoc: false },
  },
  logLevel: 'warn',
});
chmodSync(join(outDir, 'drover.mjs'), 0o755);
process.stdout.write(`built ${join(outDir, 'drover.mjs')}\n`);
