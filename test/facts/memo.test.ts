import { describe, expect, it } from 'vitest';
import { PairMemo } from '../../src/facts/memo.js';

describe('PairMemo', () => {
  it('works a value out once per pair of objects, and again for any other pair', () => {
    const calls: string[] = [];
    const memo = new PairMemo((a: { n: string }, b: { n: string }) => {
      calls.push(a.n + b.n);
      return { pair: a.n + b.n };
    });
    const [a1, a2, b1, b2] = [{ n: 'a1' }, { n: 'a2' }, { n: 'b1' }, { n: 'b2' }];
    const first = memo.get(a1, b1);
    expect(memo.get(a1, b1)).toBe(first);
    expect(memo.get(a1, b2)).toEqual({ pair: 'a1b2' });
    expect(memo.get(a2, b1)).toEqual({ pair: 'a2b1' });
    // Equal contents are not the same object: a new request's data is worked out anew.
    expect(memo.get({ n: 'a1' }, b1)).not.toBe(first);
    expect(calls).toEqual(['a1b1', 'a1b2', 'a2b1', 'a1b1']);
  });
});
