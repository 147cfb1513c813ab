import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createApp } from './http/app.js';
import { loadRuleset } from './rules/load.js';
import type { RulesetSource } from './rules/ruleset.js';

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

  const ruleset = await loadRuleset(config.RULES_DIR);
  const rules: RulesetSource = {
    current: () => ruleset,
    status: () => ({ version: ruleset.version, loadedAt: ruleset.loadedAt }),
  };
  const app = createApp({ config, logger, rules });
  const server: Server = app.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info({ host: config.HOST, port, rulesetVersion: ruleset.version }, 'listening');
  });
  server.requestTimeout = config.REQUEST_TIMEOUT_MS + 5_000;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close(() => {
      logger.info('stopped');
      process.exit(0);
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
