import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createApp } from './http/app.js';
import { Metrics } from './observability/metrics.js';
import { formatLoadError } from './rules/load-error.js';
import { ReloadingRulesetSource } from './rules/reloading-source.js';
import type { Ruleset } from './rules/ruleset.js';
import { scenarioErrors } from './scenarios/run-scenarios.js';
import { openSqlStores, StoreConfigError } from './stores/postgres/index.js';
import { storeEvents } from './observability/store-events.js';

/**
 * Start-up exit codes (README "Exit codes"): 78 (EX_CONFIG, sysexits.h) for any configuration error an
 * operator fixes in the deployment (environment, clients file, ruleset, data directory or database
 * schema), 1 for anything unexpected.
 */
const EX_CONFIG = 78;

function configError(message: string): never {
  console.error(message);
  process.exit(EX_CONFIG);
}

/** Process entry: config → ruleset → app → listen; graceful shutdown on SIGTERM/SIGINT. */
async function start(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configError(err.message);
  }
  const logger = createLogger(config);

  const metrics = new Metrics({ defaultMetrics: true });
  const loaded = await ReloadingRulesetSource.create({
    dir: config.RULES_DIR,
    logger,
    watch: config.RULES_WATCH === 'on',
    ...(config.RULES_RELOAD_REQUIRE_SCENARIOS === 'on' && { verify: (ruleset: Ruleset) => scenarioErrors(config.RULES_DIR, ruleset) }),
    onReload: (event) => {
      if (!event.ok) metrics.ruleLoadError();
    },
  });
  if (!loaded.ok) {
    // Refuse to start on an invalid ruleset: list every error so they can all be fixed at once.
    configError(
      [`The ruleset in ${config.RULES_DIR} has ${loaded.errors.length} error(s); not starting:`, ...loaded.errors.map((e) => `  ${formatLoadError(e)}`)].join('\n'),
    );
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
    configError(err.message);
  }
  const { stores } = opened;
  let app;
  try {
    // Reads CDS_CLIENTS_FILE: a missing or invalid one is a configuration error.
    app = createApp({ config, logger, rules, metrics, stores });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    await stores.close(0);
    configError(err.message);
  }
  // Express 5 hands a listen error (a port in use, say) to this callback: not configuration, so exit 1.
  const server: Server = app.listen(config.PORT, config.HOST, (err?: Error) => {
    if (err) {
      console.error('Failed to start: cannot listen:', err.message);
      process.exit(1);
    }
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
