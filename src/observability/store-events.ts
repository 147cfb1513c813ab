import type { StoreEvents, StoreLog } from '../stores/postgres/store-health.js';
import type { Metrics } from './metrics.js';

/** At most one log line per kind of store event in this interval: an outage must not flood the log. */
const LOG_EVERY_MS = 10_000;

/**
 * Store events as metrics (every one) and log lines (throttled, with how many were not logged). An
 * error is logged by its code and message only: the drivers put no query parameters in either.
 */
export function storeEvents(metrics: Metrics, logger: StoreLog, now: () => number = Date.now): StoreEvents {
  const last = new Map<string, { at: number; suppressed: number }>();
  const log = (key: string, write: (suppressed: number) => void) => {
    const t = now();
    const entry = last.get(key);
    if (entry && t - entry.at < LOG_EVERY_MS) {
      entry.suppressed++;
      return;
    }
    write(entry?.suppressed ?? 0);
    last.set(key, { at: t, suppressed: 0 });
  };
  return {
    ledgerGap(count, reason) {
      metrics.ledgerGap(count, reason);
      log(`gap:${reason}`, (suppressed) =>
        logger.error({ count, reason, ...(suppressed > 0 && { suppressed }) }, 'card ledger: records dropped; analytics will miss them (cds_ledger_gap_total)'),
      );
    },
    failure(op, err) {
      metrics.storeFailure(op);
      log(`failure:${op}`, (suppressed) =>
        logger.error({ op, err: describe(err), ...(suppressed > 0 && { suppressed }) }, 'store: operation failed; store degraded'),
      );
    },
    jtiFallback() {
      metrics.jtiFallback();
      log('jti', (suppressed) =>
        logger.warn({ ...(suppressed > 0 && { suppressed }) }, 'replay protection: store unavailable, using this replica\'s memory only'),
      );
    },
    ledgerQueue(size) {
      metrics.ledgerQueueSize(size);
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}`.slice(0, 300);
  }
  return String(err).slice(0, 300);
}
