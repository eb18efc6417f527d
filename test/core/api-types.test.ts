import { type ExitReason, Manage, type ManageEvents, Pool } from '@drover/core';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('the public types', () => {
  it("carry what setWorkInit resolves to into each execution and task, as the README's example needs", () => {
    // Compile-time checks: `tsc -p tsconfig.json` fails if a type drifts or an error line stops
    // erroring. The function is never called.
    const typeChecks = () => {
      new Manage({ baseTitle: 'types' })
        .setWorkInit(async () => ({ db: { query: (q: string) => q.length } }))
        .setWork(async (_worker, { db }) => {
          expectTypeOf(db.query('x')).toEqualTypeOf<number>();
        });
      new Pool<{ n: number }, number>({ baseTitle: 'types-pool' })
        .setWorkInit(() => 6)
        .setTaskHandler(async ({ n }, ctx) => {
          expectTypeOf(ctx.resources).toEqualTypeOf<number>();
          return n * ctx.resources;
        });
      new Manage({ baseTitle: 'types' })
        .setWorkInit(() => ({ db: 1 }))
        // @ts-expect-error: the resources are { db: number }, not a string
        .setWork((_worker, resources: string) => resources);
      const manage = new Manage({ baseTitle: 'types' });
      manage.on('workerExit', (info) => expectTypeOf(info.reason).toEqualTypeOf<ExitReason>());
      // @ts-expect-error: the master's internal channel is not a Manage event
      manage.on('internalMessage', () => {});
      expectTypeOf<keyof ManageEvents>().toEqualTypeOf<
        | 'workerStart'
        | 'workerReady'
        | 'workerExit'
        | 'workerStop'
        | 'workerBackoff'
        | 'workerFailed'
        | 'message'
        | 'reload'
        | 'stop'
      >();
    };
    expect(typeChecks).toBeTypeOf('function');
  });
});
