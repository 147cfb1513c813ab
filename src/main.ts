import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createApp } from './http/app.js';
import { Metrics } from './observability/metrics.js';
import { formatLoadError } from './rules/load-error.js';
import { ReloadingRulesetSource } from './rules/reloading-source.js';
import { openSqlStores, StoreConfigError } from './stores/postgres/index.js';
import { storeEvents } from './observability/store-events.js';

/** Process entry: config → ruleset → app → listen; graceful shutdown on SIGTERM/SIGINT. */
async function start(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(78);
  }
  const logger = createLogger(config);
  if (config.CDS_AUTH === 'off') {
    logger.warn('CDS_AUTH=off: client JWTs are not checked. Use this only for local development.');
  }

  const metrics = new Metrics({ defaultMetrics: true });
  const loaded = await ReloadingRulesetSource.create({
    dir: config.RULES_DIR,
    logger,
    watch: config.RULES_WATCH === 'on',
    onReload: (event) => {
      if (!event.ok) metrics.ruleLoadError();
    },
  });
  if (!loaded.ok) {
    // Refuse to start on an invalid ruleset: list every error so they can all be fixed at once.
    console.error(`The ruleset in ${config.RULES_DIR} has ${loaded.errors.length} error(s); not starting:`);
    for (const e of loaded.errors) console.error(`  ${formatLoadError(e)}`);
    process.exit(1);
  }
  const rules = loaded.source;
  const ruleset = rules.current();
  logger.info({ rulesetVersion: ruleset.version, rules: ruleset.counts, watch: config.RULES_WATCH }, 'ruleset loaded');
  process.on('SIGHUP', () => void rules.reload('SIGHUP'));
  // PostgreSQL (DATABASE_URL) or the embedded PGlite in DATA_DIR; a deployment mistake (DATA_DIR not
  // writable or in use, a schema newer than this release) stops start-up with EX_CONFIG.
  let opened;
  try {
    opened = await openSqlStores(config, { events: storeEvents(metrics, logger), logger });
  } catch (err) {
    if (!(err instanceof StoreConfigError)) throw err;
    console.error(err.message);
    process.exit(78);
  }
  const { stores } = opened;
  const app = createApp({ config, logger, rules, metrics, stores });
  const server: Server = app.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info({ host: config.HOST, port, rulesetVersion: rules.current().version }, 'listening');
  });
  server.requestTimeout = config.REQUEST_TIMEOUT_MS + 5_000;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close(() => {
      // The card ledger's queue is written before exit (within the grace period).
      void Promise.allSettled([rules.close(), stores.close(config.SHUTDOWN_GRACE_MS)]).finally(() => {
        logger.info('stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn('shutdown grace period over: closing remaining connections');
      server.closeAllConnections();
      process.exit(0);
    }, config.SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

start().catch((err: unknown) => {
  console.error('Failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
