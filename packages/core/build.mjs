// Bundles the built package (dist/) for run time: a worker starts faster loading one file than
// a graph of ES modules (measured in bench/core: about +28 ms of CPU per worker for the graph,
// +9 ms for one CommonJS file). Types stay in dist/.
//   bundle/index.js, worker.js, control.js, master.js, memory.js, bullmq.js
//                                       ES modules sharing two chunks; worker.js (what workers
//                                       resolve '@drover/core' to) leaves out the master's side
//   bundle/drover-worker-bootstrap.cjs  the worker preload (--require), script mode included
import { readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Takes Node's builtins with `process.getBuiltinModule()` instead of ES module imports. Importing
 * a builtin as an ES module builds its whole export namespace, which runs every lazy getter
 * (`fs.promises`, `net.BlockList`, `module.SourceMap`, ...) and loads what they load: 1-3 ms of
 * CPU in every process that loads the bundle (measured), a worker in library mode included.
 */
const builtinsWithoutNamespaces = {
  name: 'builtins-without-namespaces',
  renderChunk(code) {
    const importLine =
      /^import (?:([\w$]+)(?:, )?)?(?:\* as ([\w$]+)|\{([^}]*)\})? ?(?:from )?"(node:[^"]+)";$/gm;
    const rewritten = code.replace(importLine, (_line, dflt, star, named, id) => {
      const module = `process.getBuiltinModule(${JSON.stringify(id)})`;
      const binding = dflt ?? star;
      const declarators = binding ? [`${binding} = ${module}`] : [];
      if (named) {
        const fields = named
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
          .map((n) => n.replace(/^([\w$]+) as ([\w$]+)$/, '$1: $2'));
        declarators.push(`{ ${fields.join(', ')} } = ${binding ?? module}`);
      }
      // one statement on one line: the lines after it keep their numbers
      return declarators.length > 0 ? `const ${declarators.join(', ')};` : `${module};`;
    });
    // no code moved to another line: the existing source map stays right
    return { code: rewritten, map: null };
  },
};
/**
 * No JSDoc in the run-time files: a library-mode worker compiles the whole bundle at start, and
 * the doc comments were 18 % of its text (about 0.7 ms of compile per worker, measured). The
 * docs stay in dist/*.d.ts, where editors read them; the source maps still point into dist/.
 */
const comments = { legal: true, annotation: false, jsdoc: false };
const external = [/^node:/, /^bullmq(\/|$)/, /^ioredis(\/|$)/, /^rotating-file-stream(\/|$)/];

/** The files `entry` imports statically, itself included, followed through dist/. */
function staticGraph(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(
      /^(?:import|export)[^'"]*?from '(\.[^']+)';$/gm,
    ))
      visit(resolve(dirname(file), spec));
  };
  visit(entry);
  return seen;
}
/**
 * Two chunks instead of a dozen small ones: every file costs a worker a resolution and a read.
 * `core`: what the worker entry imports statically, all a worker loads. `master-side`: the rest,
 * which the other entries load with it.
 */
const workerSide = staticGraph(here('./dist/index.js'));
const masterSide = staticGraph(here('./dist/onDemand.js'));
const codeSplitting = {
  groups: [
    { name: 'core', test: (id) => workerSide.has(id) },
    { name: 'master-side', test: (id) => masterSide.has(id) },
  ],
};

rmSync(here('./bundle'), { recursive: true, force: true });
await build({
  input: {
    index: here('./dist/entries/default.js'),
    worker: here('./dist/index.js'),
    control: here('./dist/entries/control.js'),
    master: here('./dist/entries/master.js'),
    memory: here('./dist/entries/memory.js'),
    bullmq: here('./dist/queue/bullmq.js'),
  },
  platform: 'node',
  external,
  logLevel: 'warn',
  plugins: [builtinsWithoutNamespaces],
  output: { dir: here('./bundle'), format: 'esm', sourcemap: true, comments, codeSplitting },
});
await build({
  input: here('./dist/worker/bootstrap.js'),
  platform: 'node',
  external,
  logLevel: 'warn',
  output: { file: here('./bundle/drover-worker-bootstrap.cjs'), format: 'cjs', sourcemap: true, comments },
});
