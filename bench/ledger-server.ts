import { testConfig } from '../src/config.js';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { storeEvents } from '../src/observability/store-events.js';
import { loadRuleset } from '../src/rules/load.js';
import { memoryStores } from '../src/stores/memory/index.js';
import { openSqlStores } from '../src/stores/postgres/index.js';
import type { Stores } from '../src/stores/ports.js';

/**
 * The real app (all rules, real routes) on one store, for the ledger benchmark: `memory` (nothing
 * written: the reference), `postgres <url>` or `pglite <dir>`. Started by bench/ledger.ts as
 * `node --import tsx bench/ledger-server.ts <kind> [url|dir] <fhir-allowlist>`; prints `listening <port>`,
 * and on SIGTERM writes what is queued and prints `ledger <json>` (rows written, gaps).
 */
const [kind, where, allowlist] = process.argv.slice(2) as [string, string, string];
const config = testConfig({
  LOG_LEVEL: 'silent',
  RATE_LIMIT_PER_MINUTE: 1_000_000_000,
  FHIR_SERVER_ALLOWLIST: [allowlist],
  ...(kind === 'postgres' ? { DATABASE_URL: where } : {}),
  ...(kind === 'pglite' ? { DATA_DIR: where } : {}),
});
const logger = createLogger(config);
const metrics = new Metrics();
const rules = await loadRuleset(config.RULES_DIR);
let gaps = 0;
const events = storeEvents(metrics, logger);
const stores: Stores =
  kind === 'memory'
    ? memoryStores(config)
    : (await openSqlStores(config, { events: { ...events, ledgerGap: (n, r) => ((gaps += n), events.ledgerGap(n, r)) }, logger })).stores;
const app = createApp({ config, logger, rules: { current: () => rules, status: () => ({ version: rules.version, loadedAt: rules.loadedAt }) }, metrics, stores });
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => {
  server.close(() => {
    void stores.close(30_000).then(() => {
      console.log(`ledger ${JSON.stringify({ gaps })}`);
      process.exit(0);
    });
  });
  server.closeAllConnections();
});
