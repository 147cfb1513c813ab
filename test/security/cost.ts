import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';

/**
 * Growth, not wall time: the same pathological input at 10 k and at 100 k characters must cost roughly
 * 10× more (linear), never ~100× (quadratic). Each size keeps the fastest of a few runs, so a pause on a
 * loaded machine does not count; `floorMs` absorbs timer noise when both runs are fast. The large run
 * stops retrying once it is under the bound, so a blow-up fails after one slow run, not three.
 */
export async function expectLinearCost(
  label: string,
  run: (length: number) => unknown,
  { floorMs = 200, small = 10_000, large = 100_000 }: { floorMs?: number; small?: number; large?: number } = {},
): Promise<void> {
  await run(small); // warm-up: compilation and caches are not the input's cost
  const smallMs = await fastest(() => run(small), Infinity);
  const bound = Math.max(30 * smallMs, floorMs);
  const largeMs = await fastest(() => run(large), bound);
  expect(largeMs, `${label}: ${large} chars took ${largeMs.toFixed(1)} ms, ${small} chars ${smallMs.toFixed(1)} ms`).toBeLessThan(bound);
}

async function fastest(run: () => unknown, enough: number, tries = 3): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < tries && best >= enough; i++) {
    const start = performance.now();
    await run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}
