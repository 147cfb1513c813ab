import { afterEach, beforeEach } from 'vitest';
import nock from 'nock';
import { Writable } from 'node:stream';
import { testConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createApp } from '../src/http/app.js';
import type { Ruleset, RulesetSource } from '../src/rules/ruleset.js';
import { loadRuleset } from '../src/rules/load.js';
import { memoryStores } from '../src/stores/memory/index.js';

/** Captures every log line the app writes, so tests can assert what was (not) logged. */
export function logCapture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
      cb();
    },
  });
  return { stream, lines };
}

export function staticSource(ruleset: Ruleset): RulesetSource {
  return { current: () => ruleset, status: () => ({ version: ruleset.version, loadedAt: ruleset.loadedAt }) };
}

/** The real app over the real `rules/` folder, with test config and a captured log. */
export async function makeApp(overrides: Partial<Config> = {}, options: { logLevel?: Config['LOG_LEVEL']; now?: Date } = {}) {
  const now = options.now ?? new Date('2026-11-21T12:00:00Z');
  const config = testConfig(overrides);
  const capture = logCapture();
  const logger = createLogger({ LOG_LEVEL: options.logLevel ?? 'info' }, capture.stream);
  const ruleset = await loadRuleset(config.RULES_DIR);
  let n = 0;
  const app = createApp({
    config,
    logger,
    rules: staticSource(ruleset),
    stores: memoryStores(config, () => now),
    now: () => now,
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  return { app, config, logs: capture.lines, ruleset };
}

/**
 * For suites whose FHIR servers are nock interceptors set up per test: nothing leaves the machine (only
 * loopback, where supertest's app listens), and no interceptor outlives its test.
 */
export function useNockPerTest(): void {
  beforeEach(() => {
    nock.cleanAll();
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
}
