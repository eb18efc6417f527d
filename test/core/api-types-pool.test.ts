import { Pool } from '@drover/core';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe("the pool's public types", () => {
  it("infer a task's result from setTaskHandler, so docs/pool.md's example gives a typed submit()", () => {
    // Compile-time checks: `tsc -p tsconfig.json` fails if a type drifts or an error line stops
    // erroring. The function is never called.
    const typeChecks = async () => {
      // docs/pool.md's example, with its payload typed
      const resize = async (path: string, width: number, _opts: { signal: AbortSignal }) => ({
        path,
        width,
        bytes: 1,
      });
      const pool = new Pool<{ path: string; width: number }>({
        baseTitle: 'thumbs',
        minWorkers: 2,
        maxWorkers: 8,
        idleTimeout: 10_000,
      })
        .setWorkInit(async () => ({ cache: new Map<string, number>() }))
        .setTaskHandler(async ({ path, width }, ctx) => {
          expectTypeOf(ctx.resources.cache).toEqualTypeOf<Map<string, number>>();
          return resize(path, width, { signal: ctx.signal });
        });
      const out = await pool.submit({ path: 'a.png', width: 640 });
      expectTypeOf(out).toEqualTypeOf<{ path: string; width: number; bytes: number }>();
      expectTypeOf(out.width).toEqualTypeOf<number>();
      const many = await pool.submitBulk([{ path: 'b.png', width: 64 }], { chunkSize: 64 });
      expectTypeOf(many).toEqualTypeOf<{ path: string; width: number; bytes: number }[]>();

      // with no type argument at all, and a synchronous handler
      const plain = new Pool({ baseTitle: 'plain' }).setTaskHandler(() => ({ w: 1 }));
      expectTypeOf(await plain.submit(null)).toEqualTypeOf<{ w: number }>();

      // a result type the pool declares still binds the handler
      new Pool<{ n: number }, number>({ baseTitle: 'squares' })
        // @ts-expect-error: the pool's results are numbers, not strings
        .setTaskHandler(async ({ n }) => `${n * n}`);
      const squares = new Pool<{ n: number }, number>({ baseTitle: 'squares' }).setTaskHandler(
        async ({ n }) => n * n,
      );
      expectTypeOf(await squares.submit({ n: 7 })).toEqualTypeOf<number>();
    };
    expect(typeChecks).toBeTypeOf('function');
  });
});
