/**
 * How the durable store is doing, for `/readyz` (`store: ok | degraded`), metrics and logs. A store
 * outage degrades bookkeeping only: hooks keep answering, and what could not be written is counted.
 */
export interface StoreEvents {
  /** Cards or silent firings that will never be written (queue full, or given up at shutdown). */
  ledgerGap(count: number, reason: 'queue-full' | 'shutdown'): void;
  /** A store operation failed (`op`: ledger, feedback, jti, analytics, purge, migrate). */
  failure(op: string, err: unknown): void;
  /** A replay check could not reach the store and used this replica's memory instead. */
  jtiFallback(): void;
  /** Cards waiting to be written, sampled after each change. */
  ledgerQueue(size: number): void;
}

/** Where the store writes its log lines (pino's Logger fits; the stores depend on nothing above them). */
export interface StoreLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export const noStoreEvents: StoreEvents = { ledgerGap() {}, failure() {}, jtiFallback() {}, ledgerQueue() {} };

/** Degraded from a failure until the next successful write (or a successful migration, at start). */
export class StoreHealth {
  private failingSince: number | undefined;
  private ready = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Migrations done: the store can serve. */
  markReady(): void {
    this.ready = true;
  }

  ok(): void {
    this.failingSince = undefined;
  }

  failed(): void {
    this.failingSince ??= this.now();
  }

  status(): 'ok' | 'degraded' {
    return this.ready && this.failingSince === undefined ? 'ok' : 'degraded';
  }
}
