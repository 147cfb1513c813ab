/**
 * What the durable stores keep, record by record. Deliberately narrow: no patient identifiers and no
 * free text (clinicians type patient details into feedback comments, so only whether one was given).
 */

export type { Bucket, RuleAnalytics, TimeseriesPoint } from '../shared/operator-api.js';

/** A rule by id and version. */
export interface RuleRef {
  id: string;
  version: string;
}

/** One card a hook call returned, as the ledger keeps it. */
export interface CardRecord {
  uuid: string;
  ruleId: string;
  ruleVersion: string;
  /** Rules a reconciled card also stands for (the card extension's `also`). */
  also: RuleRef[];
  rulesetVersion: string;
  service: string;
  hook: string;
  /** The CDS client's `iss`; '' when CDS_AUTH=off (no client identity). */
  client: string;
  category: string;
  indicator: string;
  /** The card's suggestions: uuid and the rule file's label (unrendered, so it carries no patient value). */
  suggestions: { uuid: string; label: string }[];
  /** Override reasons the card offered, as `system|code`. */
  overrideReasons: string[];
  issuedAt: Date;
}

/** A silent rule fired (evaluated and counted, no card shown). */
export interface SilentFiring {
  ruleId: string;
  ruleVersion: string;
  category: string;
  service: string;
  client: string;
  firedAt: Date;
}

/** One counted outcome for one card (at most one per card). */
export interface FeedbackRecord {
  card: string;
  outcome: 'accepted' | 'overridden';
  /** Suggestion uuids, each one the card carried. */
  acceptedSuggestions: string[];
  /** `system|code` of a reason the card offered, `other` for any other, undefined when none was given. */
  overrideReason?: string;
  hasComment: boolean;
  outcomeAt: Date;
  receivedAt: Date;
}

/** What became of one feedback item (the use-case's verdict). Only `recorded` counts in analytics. */
export type FeedbackResult =
  | 'recorded'
  | 'duplicate'
  | 'conflict'
  | 'unknown-card'
  | 'other-client'
  | 'other-service'
  | 'unknown-suggestion';

/** Storing one feedback outcome: new, the same outcome again, or a different one for an answered card. */
export type StoreFeedbackResult = 'recorded' | 'duplicate' | 'conflict';

/** Filters of `GET /analytics/rules`: `from` inclusive, `to` exclusive. */
export interface AnalyticsFilter {
  from: Date;
  to: Date;
  service?: string;
  client?: string;
}
