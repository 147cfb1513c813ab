import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Card } from '../shared/card.js';
import type { FetchRecord } from '../shared/patient-data.js';
import type { EvaluationResult } from '../rules/ruleset.js';
import type { FeedbackResult } from '../stores/ports.js';

/**
 * The service's Prometheus series, on a registry of its own (one per app instance, so tests can build
 * many apps). Lower layers report what they did (fetch records, rules fired); the HTTP edge turns those
 * reports into observations here. Every label value is a route template, a status, a service id, a rule
 * id, a resource type or a fixed reason: never anything taken from a patient's record.
 */

/** Seconds. Fine at the low end: a hook call takes milliseconds to tens of milliseconds (docs/performance.md). */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Seconds. A FHIR search over a network takes tens to hundreds of milliseconds. */
const FETCH_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 1, 2.5];

/** Label values that come from callers are held to this shape; anything else is reported as `other`. */
const SAFE_LABEL = /^[A-Za-z0-9/][A-Za-z0-9._:/{}-]{0,79}$/;
const safe = (value: string): string => (SAFE_LABEL.test(value) ? value : 'other');

export type HookOutcomeLabel = 'ok' | 'data-unavailable' | 'timeout' | 'error';

export interface MetricsOptions {
  /** Process metrics (CPU, RSS, heap, event-loop lag, GC): on in production, off in tests. */
  defaultMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly hookDuration: Histogram<'service' | 'outcome'>;
  private readonly fetchDuration: Histogram<'resource_type' | 'source' | 'outcome'>;
  private readonly cards: Counter<'service' | 'category' | 'indicator'>;
  private readonly silentFirings: Counter<'rule'>;
  private readonly ruleLoadErrors: Counter;
  private readonly authFailures: Counter<'reason'>;
  private readonly feedback: Counter<'rule' | 'outcome' | 'result'>;
  private readonly storeFailures: Counter<'op'>;
  private readonly ledgerGaps: Counter<'reason'>;
  private readonly jtiFallbacks: Counter;
  private readonly ruleErrorCount: Counter<'rule'>;
  private readonly ledgerQueue: Gauge;
  private rulesetVersion: () => string | undefined = () => undefined;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });

    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.hookDuration = new Histogram({
      name: 'cds_hook_evaluation_duration_seconds',
      help: 'Time to answer one valid hook call (data resolution and rule evaluation), by service and outcome',
      labelNames: ['service', 'outcome'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.fetchDuration = new Histogram({
      name: 'cds_fhir_fetch_duration_seconds',
      help: 'Time to obtain one prefetch key, from prefetch or the FHIR server, by resource type, source and outcome',
      labelNames: ['resource_type', 'source', 'outcome'],
      buckets: FETCH_BUCKETS,
      registers,
    });
    this.cards = new Counter({
      name: 'cds_cards_total',
      help: 'Cards returned, by service, rule category and indicator',
      labelNames: ['service', 'category', 'indicator'],
      registers,
    });
    this.silentFirings = new Counter({
      name: 'cds_silent_rule_firings_total',
      help: 'Firings of silent rules (evaluated, logged and counted, never shown), by rule id',
      labelNames: ['rule'],
      registers,
    });
    this.ruleErrorCount = new Counter({
      name: 'cds_rule_errors_total',
      help: 'Rules that threw while evaluating a hook call (isolated: the call still answered, with a data-quality card), by rule id',
      labelNames: ['rule'],
      registers,
    });
    this.ruleLoadErrors = new Counter({
      name: 'cds_rule_load_errors_total',
      help: 'Ruleset loads or reloads that failed (the previous ruleset keeps serving)',
      registers,
    });
    this.authFailures = new Counter({
      name: 'cds_auth_failures_total',
      help: 'Requests refused by client authentication, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.feedback = new Counter({
      name: 'cds_card_feedback_total',
      help: 'CDS Hooks feedback items, by rule, outcome (accepted, overridden) and result (recorded; not counted: duplicate, conflict, unknown-card, other-client, other-service, unknown-suggestion)',
      labelNames: ['rule', 'outcome', 'result'],
      registers,
    });
    this.storeFailures = new Counter({
      name: 'cds_store_failures_total',
      help: 'Store operations that failed (ledger, feedback, jti, analytics, purge, migrate); hooks keep answering',
      labelNames: ['op'],
      registers,
    });
    this.ledgerGaps = new Counter({
      name: 'cds_ledger_gap_total',
      help: 'Cards and silent-rule firings never written to the card ledger (queue-full during a store outage, or shutdown), so analytics miss them',
      labelNames: ['reason'],
      registers,
    });
    this.jtiFallbacks = new Counter({
      name: 'cds_jti_store_fallback_total',
      help: 'Replay checks decided by this replica\'s memory alone because the shared store did not answer',
      registers,
    });
    this.ledgerQueue = new Gauge({
      name: 'cds_ledger_queue_size',
      help: 'Cards and silent-rule firings waiting to be written to the card ledger',
      registers,
    });
    const version = () => this.rulesetVersion();
    new Gauge({
      name: 'cds_ruleset_info',
      help: 'The ruleset serving (value 1), labelled with its content-hash version',
      labelNames: ['version'],
      registers,
      collect() {
        this.reset();
        const v = version();
        if (v !== undefined) this.set({ version: safe(v) }, 1);
      },
    });
  }

  /** Where `cds_ruleset_info` reads the version from (the ruleset source, once the app has one). */
  trackRulesetVersion(read: () => string): void {
    this.rulesetVersion = read;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method: safe(method), route: safe(route), status: String(status) }, seconds);
  }

  observeHook(service: string, outcome: HookOutcomeLabel, seconds: number): void {
    this.hookDuration.observe({ service: safe(service), outcome }, seconds);
  }

  recordFetches(fetches: readonly FetchRecord[]): void {
    for (const f of fetches) {
      this.fetchDuration.observe(
        { resource_type: safe(f.resourceType), source: f.source, outcome: safe(f.outcome) },
        f.durationMs / 1000,
      );
    }
  }

  /**
   * Silent firings from the rules that fired; cards from those returned. Not every firing is returned: dose
   * limits are merged into one reconciled card, and a removed draft's preparation cards are left out.
   */
  recordFirings(service: string, fired: EvaluationResult['fired'], cards: readonly Card[]): void {
    for (const rule of fired) if (rule.status === 'silent') this.silentFirings.inc({ rule: safe(rule.id) });
    for (const card of cards) this.cards.inc({ service: safe(service), category: safe(card.source.topic?.code ?? 'unknown'), indicator: safe(card.indicator) });
  }

  ruleErrors(failed: readonly { id: string }[]): void {
    for (const rule of failed) this.ruleErrorCount.inc({ rule: safe(rule.id) });
  }

  ruleLoadError(): void {
    this.ruleLoadErrors.inc();
  }

  authFailure(reason: string): void {
    this.authFailures.inc({ reason: safe(reason) });
  }

  cardFeedback(rule: string, outcome: 'accepted' | 'overridden', result: FeedbackResult): void {
    this.feedback.inc({ rule: safe(rule), outcome, result });
  }

  storeFailure(op: string): void {
    this.storeFailures.inc({ op: safe(op) });
  }

  ledgerGap(count: number, reason: 'queue-full' | 'shutdown'): void {
    this.ledgerGaps.inc({ reason }, count);
  }

  jtiFallback(): void {
    this.jtiFallbacks.inc();
  }

  ledgerQueueSize(size: number): void {
    this.ledgerQueue.set(size);
  }

  /** Text exposition for `GET /metrics`. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
