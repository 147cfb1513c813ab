/**
 * What the service must remember between calls, as async ports: the cards it issued (so feedback can
 * be attributed to the rule that raised each card), the feedback clinicians sent, and the client-JWT
 * ids it has seen (replay protection). The HTTP edge and the use-cases depend on these interfaces
 * only; `src/stores/memory/` holds the per-process implementations, and a durable store adds one
 * module per port beside them. Implementations are passed to `createApp(deps)`.
 */

/** One card a hook call returned, reduced to what attributing feedback needs. */
export interface IssuedCard {
  uuid: string;
  ruleId: string;
  ruleVersion: string;
  /** The card's category (its `source.topic.code`), or `unknown`. */
  category: string;
}

/** The rule a remembered card came from. */
export type CardRule = Omit<IssuedCard, 'uuid'>;

/** The issued-card ledger. */
export interface CardLedger {
  /** Remembers the cards one hook call returned (and counts them as shown for their rules). */
  issued(cards: readonly IssuedCard[]): Promise<void>;
  /** The rule a card came from, while the card is remembered; undefined for unknown or expired cards. */
  ruleFor(cardUuid: string): Promise<CardRule | undefined>;
}

/** One feedback item as the store needs it (CDS Hooks §Feedback, already validated at the edge). */
export interface FeedbackEvent {
  card: string;
  outcome: 'accepted' | 'overridden';
  outcomeTimestamp: string;
  acceptedSuggestions?: readonly { id: string }[];
  overrideReason?: { reason?: { system: string; code: string } };
}

/** What became of one feedback item: counted, already counted, or for a card the ledger does not know. */
export type FeedbackResult = 'recorded' | 'duplicate' | 'unknown-card';

export interface RuleFeedback {
  id: string;
  version: string;
  category: string;
  shown: number;
  accepted: number;
  overridden: number;
  /** Override reason codes as `system|code` → count. */
  overrideReasons: Record<string, number>;
}

export interface FeedbackSummary {
  /** Since when the counts run (RFC 3339). */
  since: string;
  /** Per rule and version, sorted by rule id. */
  rules: RuleFeedback[];
}

/** Feedback per rule. */
export interface FeedbackStore {
  /** Applies one feedback item idempotently: the same card, outcome and timestamp count once. */
  record(item: FeedbackEvent): Promise<FeedbackResult>;
  summary(): Promise<FeedbackSummary>;
}

/** The `jti`s of accepted client JWTs, kept until each token expires. */
export interface JtiStore {
  /** Records the token; false when the same issuer's `jti` is still remembered (a replay). */
  remember(iss: string, jti: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
}

/** Every store the service uses, as `createApp` takes them. */
export interface Stores {
  cards: CardLedger;
  feedback: FeedbackStore;
  jtis: JtiStore;
}
