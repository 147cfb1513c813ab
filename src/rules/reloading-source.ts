import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../logger.js';
import { formatLoadError, type LoadError } from './load-error.js';
import { readRuleset, type LoadResult } from './load.js';
import type { Ruleset, RulesetSource } from './ruleset.js';

/** status().lastError summarises this many of a refused reload's errors (never shown on open routes); the log has them all. */
const MAX_ERRORS_SHOWN = 10;
/** The console's ruleset page lists this many (operators only); the log has them all. */
const MAX_ERRORS_KEPT = 200;

/** What one reload attempt did, for metrics. */
export type ReloadEvent =
  | { ok: true; version: string; changed: boolean; counts: Ruleset['counts'] }
  | { ok: false; errors: readonly LoadError[]; serving: string };

export interface ReloadingSourceOptions {
  dir: string;
  logger: Logger;
  /** Re-read when files under `dir` change (debounced). SIGHUP is handled by the caller via reload(). */
  watch: boolean;
  debounceMs?: number;
  onReload?: (event: ReloadEvent) => void;
  /**
   * Checks a reloaded ruleset before it replaces the serving one (the service runs its scenarios here,
   * RULES_RELOAD_REQUIRE_SCENARIOS): errors refuse it like any load error. Not run at start-up.
   */
  verify?: (ruleset: Ruleset) => Promise<LoadError[]>;
  /** Injected for tests; defaults to reading `dir` with the real facts. */
  read?: (dir: string) => Promise<LoadResult>;
}

/**
 * Serves one ruleset and replaces it atomically when a reload yields a valid one. A ruleset with
 * errors is refused: the current one keeps serving, the errors show in the log, and /readyz says `reload: refused`.
 * Requests take `current()` once at their start, so a swap never changes a request's ruleset midway.
 */
export class ReloadingRulesetSource implements RulesetSource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private refused: { at: string; errors: readonly LoadError[] } | undefined;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private ruleset: Ruleset,
    private readonly options: ReloadingSourceOptions,
  ) {}

  /** Loads the initial ruleset; returns its errors instead when it is invalid (the service must not start). */
  static async create(options: ReloadingSourceOptions): Promise<{ ok: true; source: ReloadingRulesetSource } | { ok: false; errors: LoadError[] }> {
    const read = options.read ?? ((dir: string) => readRuleset(dir));
    const result = await read(options.dir);
    if (!result.ok) return result;
    const source = new ReloadingRulesetSource(result.ruleset, { ...options, read });
    if (options.watch) await source.startWatching();
    return { ok: true, source };
  }

  current(): Ruleset {
    return this.ruleset;
  }

  status(): { version: string; loadedAt: string; lastError?: string } {
    return { version: this.ruleset.version, loadedAt: this.ruleset.loadedAt, ...(this.lastError !== undefined && { lastError: this.lastError }) };
  }

  refusedReload(): { at: string; errors: readonly LoadError[] } | undefined {
    return this.refused;
  }

  /** Re-reads the folder now. Reloads run one at a time, in order. */
  reload(reason: string): Promise<void> {
    this.queue = this.queue.then(() => this.doReload(reason));
    return this.queue;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    await this.queue;
  }

  private async doReload(reason: string): Promise<void> {
    const { logger, onReload } = this.options;
    let result: LoadResult;
    try {
      result = await this.options.read!(this.options.dir);
    } catch (err) {
      result = { ok: false, errors: [{ file: '.', pointer: '', message: `could not be read: ${(err as Error).message}` }] };
    }
    if (result.ok && this.options.verify && result.ruleset.version !== this.ruleset.version) {
      const errors = await this.options.verify(result.ruleset);
      if (errors.length > 0) result = { ok: false, errors };
    }
    if (!result.ok) {
      this.refused = { at: new Date().toISOString(), errors: result.errors.slice(0, MAX_ERRORS_KEPT) };
      const shown = result.errors.slice(0, MAX_ERRORS_SHOWN).map(formatLoadError);
      const more = result.errors.length - shown.length;
      this.lastError = `${result.errors.length} error${result.errors.length === 1 ? '' : 's'}; still serving ${this.ruleset.version}: ${shown.join('; ')}${more > 0 ? `; and ${more} more (see the log)` : ''}`;
      logger.error(
        { reason, serving: this.ruleset.version, errorCount: result.errors.length, errors: result.errors.map(formatLoadError) },
        'ruleset reload refused: the new ruleset has errors, the previous one keeps serving',
      );
      onReload?.({ ok: false, errors: result.errors, serving: this.ruleset.version });
      return;
    }
    const changed = result.ruleset.version !== this.ruleset.version;
    if (changed) this.ruleset = result.ruleset;
    this.lastError = undefined;
    this.refused = undefined;
    const { version, counts } = this.ruleset;
    logger.info({ reason, rulesetVersion: version, rules: counts, changed }, changed ? 'ruleset reloaded' : 'ruleset unchanged');
    onReload?.({ ok: true, version, changed, counts });
  }

  private async startWatching(): Promise<void> {
    const { dir, debounceMs = 250 } = this.options;
    this.watcher = watch(dir, {
      ignoreInitial: true,
      // Scenario tests and the generated schemas are not part of the ruleset.
      ignored: (p: string) => /[\\/](tests|schema)([\\/]|$)/.test(p.slice(dir.length)),
      awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
    });
    this.watcher.on('all', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload('file change'), debounceMs);
    });
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }
}
