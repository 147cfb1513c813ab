import { describe, expect, it } from 'vitest';
import { CallMemo } from '../../src/facts/memo.js';

describe('CallMemo', () => {
  const calls: string[] = [];
  const pair = (key: { n: string }, input: string) => {
    calls.push(key.n + input);
    return { pair: key.n + input };
  };
  const other = (key: { n: string }, input: string) => ({ other: key.n + input });

  it('works a value out once per derivation and key in a call, and anew in another call', () => {
    calls.length = 0;
    const memo = new CallMemo();
    const [a, b] = [{ n: 'a' }, { n: 'b' }];
    const first = memo.get(pair, a, 'x');
    expect(memo.get(pair, a, 'x')).toBe(first);
    expect(memo.get(pair, b, 'x')).toEqual({ pair: 'bx' });
    // Each derivation has its own table: the same key under another derivation is worked out by it.
    expect(memo.get(other, a, 'x')).toEqual({ other: 'ax' });
    // Equal contents are not the same object: another order or value set is worked out anew.
    expect(memo.get(pair, { n: 'a' }, 'x')).not.toBe(first);
    // The next call has its own memo: nothing carries over from this one.
    expect(new CallMemo().get(pair, a, 'x')).not.toBe(first);
    expect(calls).toEqual(['ax', 'bx', 'ax', 'ax']);
  });

  it('remembers a derivation that returned undefined or null', () => {
    const memo = new CallMemo();
    let count = 0;
    const nothing = () => {
      count += 1;
      return undefined;
    };
    const key = {};
    memo.get(nothing, key, null);
    memo.get(nothing, key, null);
    expect(count).toBe(1);
  });
});
