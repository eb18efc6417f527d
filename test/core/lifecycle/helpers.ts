import { statSync } from 'node:fs';
import { join } from 'node:path';
import { type FixtureEvent, type RunningGroup, startFixture, tempDir } from '../../support/group.js';

export interface LoopGroup {
  group: RunningGroup;
  runDir: string;
  cleanup(): Promise<void>;
}

/** Starts the loop fixture in a private run dir; cleanup kills whatever is left. */
export function startLoop(
  config: Record<string, unknown> = {},
  behaviour: Record<string, unknown> = {},
  execArgv: string[] = ['--title=drover:Master:loop'],
): LoopGroup {
  const { dir, cleanup } = tempDir();
  const group = startFixture('core/loop.mjs', {
    env: {
      GROUP_CONFIG: JSON.stringify({ runDir: dir, ...config }),
      WORKER_BEHAVIOUR: JSON.stringify(behaviour),
    },
    execArgv,
  });
  return {
    group,
    runDir: dir,
    cleanup: async () => {
      await group.kill();
      cleanup();
    },
  };
}

export const is =
  (event: string, extra: (e: FixtureEvent) => boolean = () => true) =>
  (e: FixtureEvent) =>
    e.event === event && extra(e);

export function readyPids(group: RunningGroup): Map<number, number> {
  const pins = new Map<number, number>();
  for (const e of group.events) if (e.event === 'workerReady') pins.set(e.pin as number, e.pid as number);
  return pins;
}

export function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

export function pidFile(runDir: string, name = 'loop'): string {
  return join(runDir, `${name}.pid`);
}
