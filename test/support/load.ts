import http from 'node:http';

export interface LoadResult {
  sent: number;
  ok: number;
  /** connection errors, resets, bad status */
  failed: number;
  /** no answer within the request timeout */
  hung: number;
  errors: string[];
  /** pid (response body) -> requests it served */
  servedBy: Map<string, number>;
}

/**
 * Keeps `connections` requests in flight against `url` until `stop()`; every request must be
 * answered with 200. Unlike a benchmark client it never retries or reconnects silently: a
 * request cut by a closing server counts as failed, one left unanswered as hung.
 */
export function startLoad(
  url: string,
  opts: { connections: number; keepAlive: boolean; timeoutMs?: number },
) {
  const agent = new http.Agent({ keepAlive: opts.keepAlive, maxSockets: opts.connections });
  const result: LoadResult = { sent: 0, ok: 0, failed: 0, hung: 0, errors: [], servedBy: new Map() };
  let running = true;
  const once = () =>
    new Promise<void>((resolve) => {
      result.sent++;
      let settled = false;
      const settle = (outcome: 'ok' | 'failed' | 'hung', detail?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        result[outcome]++;
        if (detail && result.errors.length < 20) result.errors.push(detail);
        resolve();
      };
      const req = http.get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return settle('failed', `status ${res.statusCode}`);
          result.servedBy.set(body, (result.servedBy.get(body) ?? 0) + 1);
          settle('ok');
        });
        res.on('error', (err) => settle('failed', err.message));
      });
      req.on('error', (err) =>
        settle('failed', `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`),
      );
      const timer = setTimeout(() => {
        settle('hung', 'no answer');
        req.destroy();
      }, opts.timeoutMs ?? 5000);
    });
  const loops = Array.from({ length: opts.connections }, async () => {
    while (running) await once();
  });
  return {
    result,
    async stop(): Promise<LoadResult> {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
