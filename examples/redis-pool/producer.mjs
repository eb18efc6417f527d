// A producer: enqueues N tasks into the shared queue (from any host that reaches the Redis)
// and prints the results as they come back from whichever worker ran them.
//
//   node examples/redis-pool/producer.mjs [N=100]
import { Pool } from '@drover/core';
import { shared } from './settings.mjs';

const n = Number(process.argv[2] ?? 100);
const producer = new Pool({ baseTitle: 'redis-pool-producer', ...shared });

const started = Date.now();
const tasks = Array.from({ length: n }, (_, i) => ({ n: i, ms: 200 + ((i * 37) % 5) * 100 }));
console.log(`enqueueing ${n} tasks`);
const results = await producer.submitBulk(tasks);
const byKind = { permanent: 0, temporary: 0 };
for (const r of results) byKind[r.kind]++;
const wrong = results.filter((r, i) => r.square !== i * i).length;
console.log(
  `all ${results.length} results back in ${Date.now() - started} ms: ${byKind.permanent} by permanent workers, ` +
    `${byKind.temporary} by temporary ones, ${new Set(results.map((r) => r.pid)).size} processes, ${wrong} wrong`,
);
await producer.close();
