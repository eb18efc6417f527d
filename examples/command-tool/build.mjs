#!/usr/bin/env node
// Bundles the tool into one ESM file: `node examples/command-tool/build.mjs [out-file]`.
// One file matters for start-up: unbundled, inversify alone loads ~250 modules.
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = fileURLToPath(new URL('.', import.meta.url));
const outFile = process.argv[2] ?? `${here}bundle/svc.mjs`;

await build({
  input: `${here}src/main.ts`,
  platform: 'node',
  // Its experimentalDecorators + emitDecoratorMetadata give the design:paramtypes that
  // inversify's type-based injection reads.
  tsconfig: `${here}tsconfig.json`,
  // Bundle @drover/command from its sources, so no package build is needed first.
  resolve: { conditionNames: ['source', 'import', 'node', 'default'] },
  output: { file: outFile, format: 'esm', banner: '#!/usr/bin/env node' },
  logLevel: 'warn',
});
process.stdout.write(`built ${outFile}\n`);
