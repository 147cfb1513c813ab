/**
 * Facts are pure functions of objects that are never changed once built (a request's PatientData and
 * orders, a ruleset's Knowledge and value sets), so a costly value derived from two of them can be
 * worked out once and kept for as long as both live.
 */
export class PairMemo<A extends object, B extends object, V> {
  private readonly values = new WeakMap<A, WeakMap<B, V>>();

  constructor(private readonly make: (a: A, b: B) => V) {}

  get(a: A, b: B): V {
    let byB = this.values.get(a);
    if (!byB) {
      byB = new WeakMap();
      this.values.set(a, byB);
    }
    let value = byB.get(b);
    if (value === undefined) {
      value = this.make(a, b);
      byB.set(b, value);
    }
    return value;
  }
}
