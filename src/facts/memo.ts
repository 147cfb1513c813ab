/**
 * What one hook call works out more than once (which drug an order is, a value set's observations newest
 * first), kept on the call's FactContext and dropped with it. A module-level cache keyed by request
 * objects kept each request's derived values alive until V8 collected the keys, long enough to promote
 * them to the old generation, where collecting them cost more CPU than the memo saved (docs/performance.md).
 */
export class CallMemo {
  private readonly tables = new Map<Derivation<never, never, unknown>, Map<object, unknown>>();

  /**
   * `derive(key, input)`, worked out at most once per key in this call. `input` must be the call's own
   * and the same on every use (its Knowledge, its patient's data): only `derive` and `key` are compared.
   */
  get<K extends object, I, V>(derive: Derivation<K, I, V>, key: K, input: I): V {
    let table = this.tables.get(derive) as Map<K, V> | undefined;
    if (!table) {
      table = new Map();
      this.tables.set(derive, table as Map<object, unknown>);
    }
    if (table.has(key)) return table.get(key) as V;
    const value = derive(key, input);
    table.set(key, value);
    return value;
  }
}

/** A pure function of a key and the call's unchanging input; module-level, so its identity names the table. */
export type Derivation<K, I, V> = (key: K, input: I) => V;
