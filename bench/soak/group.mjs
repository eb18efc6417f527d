// A soak group, logging to files as background mode does. Configured from the environment:
//   SOAK_NAME, SOAK_RUN_DIR, SOAK_LOG_DIR, SOAK_WORKERS, SOAK_ROTATION (JSON)
//   SOAK_MODE=recycle  every worker runs one execution (executeTimes 1), then is replaced
//   SOAK_MODE=flood    every worker writes output lines as fast as the log takes them (200 per
//                      execution, honouring back-pressure)
// Prints `SOAK {json}` lines on stdout: started, and the log sink's notices.
import { once } from 'node:events';
import { Manage } from '@drover/core';

const log = await import(new URL('../../packages/core/dist/log/index.js', import.meta.url).href);
const env = process.env;
const name = env.SOAK_NAME ?? 'soak';
const mode = env.SOAK_MODE ?? 'recycle';
const workMs = Number(env.SOAK_WORK_MS ?? 100);
const lineBytes = Number(env.SOAK_LINE_BYTES ?? 120);
const say = (event, data) =>
  process.stdout.write(`SOAK ${JSON.stringify({ event, t: Date.now(), ...data })}\n`);

const config = {
  baseTitle: name,
  runDir: env.SOAK_RUN_DIR,
  maxWorkerNum: Number(env.SOAK_WORKERS ?? 4),
  ...(mode === 'recycle' ? { executeTimes: 1 } : {}),
};

let logger;
if (!new Manage(config).isWorker) {
  const file = log.FileSink.open({
    dir: env.SOAK_LOG_DIR,
    baseTitle: name,
    rotation: JSON.parse(env.SOAK_ROTATION ?? '{"size":"1M","interval":false,"maxFiles":5}'),
  });
  file.onNotice((notice) => say('notice', notice));
  logger = new log.Logger({ baseTitle: name, sinks: [file] });
}

const line = `${'x'.repeat(lineBytes)}\n`;
const manage = new Manage(config, logger ? { logger } : {}).setWork(async (worker) => {
  if (mode === 'flood') {
    // A worker's stdout is a socket to the master: write() returning false means the master's
    // log pushes back; a worker that ignored it would buffer the flood in its own memory.
    for (let i = 0; i < 200; i++) {
      if (!process.stdout.write(line)) await once(process.stdout, 'drain');
    }
  } else {
    console.log(`execution on pin ${worker.pin}`);
    await new Promise((resolve) => setTimeout(resolve, workMs));
  }
});

try {
  await manage.start();
  say('started', { pid: process.pid });
} catch (err) {
  say('startFailed', { message: err.message });
  process.exit(1);
}
