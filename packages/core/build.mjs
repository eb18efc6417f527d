// Bundles the built package (dist/) for run time: a worker starts faster loading one file than
// a graph of ES modules (measured in bench/core: about +28 ms of CPU per worker for the graph,
// +9 ms for one CommonJS file). Types stay in dist/.
//   bundle/index.js, bundle/bullmq.js   ES modules sharing chunks
//   bundle/drover-worker-bootstrap.cjs  the worker preload (--require), script mode included
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const external = [/^node:/, /^bullmq(\/|$)/, /^ioredis(\/|$)/, /^rotating-file-stream(\/|$)/];

rmSync(here('./bundle'), { recursive: true, force: true });
await build({
  input: {
    index: here('./dist/index.js'),
    bullmq: here('./dist/queue/bullmq.js'),
  },
  platform: 'node',
  external,
  logLevel: 'warn',
  output: { dir: here('./bundle'), format: 'esm', sourcemap: true },
});
await build({
  input: here('./dist/worker/bootstrap.js'),
  platform: 'node',
  external,
  logLevel: 'warn',
  output: { file: here('./bundle/drover-worker-bootstrap.cjs'), format: 'cjs', sourcemap: true },
});
