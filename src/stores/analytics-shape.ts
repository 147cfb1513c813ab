import type { Bucket, RuleAnalytics } from './records.js';

/** Counts per rule and version, as every store gathers them. */
export type RuleCounts = Omit<RuleAnalytics, 'noFeedback' | 'overrideRate'>;

/** Adds the derived fields and sorts by rule id, then version. */
export function ruleAnalytics(counts: readonly RuleCounts[]): RuleAnalytics[] {
  return counts
    .map((c) => {
      const answered = c.accepted + c.overridden;
      return {
        id: c.id,
        version: c.version,
        category: c.category,
        shown: c.shown,
        accepted: c.accepted,
        overridden: c.overridden,
        noFeedback: c.shown - answered,
        overrideRate: answered === 0 ? null : Math.round((c.overridden / answered) * 10_000) / 10_000,
        overrideReasons: c.overrideReasons,
        acceptedSuggestions: c.acceptedSuggestions,
        silentFirings: c.silentFirings,
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id) || a.version.localeCompare(b.version));
}

const DAY_MS = 86_400_000;

/** The UTC start (`YYYY-MM-DD`) of the day or week (weeks start on Monday) holding `t`. */
export function bucketOf(bucket: Bucket, t: Date): string {
  const day = Math.floor(t.getTime() / DAY_MS) * DAY_MS;
  // 1970-01-01 was a Thursday: (days + 3) mod 7 is the number of days since Monday.
  const start = bucket === 'day' ? day : day - (((day / DAY_MS + 3) % 7) + 7) % 7 * DAY_MS;
  return new Date(start).toISOString().slice(0, 10);
}

/** Every bucket start from the one holding `from` up to (not including) `to`. */
export function bucketStarts(bucket: Bucket, from: Date, to: Date): string[] {
  const step = bucket === 'day' ? DAY_MS : 7 * DAY_MS;
  const starts: string[] = [];
  for (let t = Date.parse(`${bucketOf(bucket, from)}T00:00:00Z`); t < to.getTime(); t += step) {
    starts.push(new Date(t).toISOString().slice(0, 10));
  }
  return starts;
}
