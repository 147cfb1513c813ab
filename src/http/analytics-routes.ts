import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Stores } from '../stores/ports.js';
import type { AnalyticsFilter } from '../stores/records.js';
import type { Bucket, RuleAnalytics, Timeseries } from '../shared/operator-api.js';
import { invalidRequest, ServiceError } from '../shared/errors.js';

/**
 * Analytics for informaticists (operator routes, no CORS):
 * - `GET /analytics/rules?from=&to=&service=&client=` → `{"rules": [...]}` per rule and version;
 * - `GET /analytics/rules/{id}/timeseries?bucket=day|week&from=&to=` → `{"id", "bucket", "points"}`.
 * `from`/`to` are RFC 3339 dates or date-times (UTC; `from` inclusive, `to` exclusive; default the last
 * 30 days). `Accept: text/csv` answers CSV whose columns are the JSON field names.
 */

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;
/** Longest window accepted (about ten years: beyond any retention), and most buckets in one series. */
const MAX_WINDOW_DAYS = 3_660;
const MAX_POINTS = 1_000;

const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be an RFC 3339 date or date-time' });
const filterSchema = z.object({
  from: instant.optional(),
  to: instant.optional(),
  service: z.string().min(1).max(64).optional(),
  client: z.string().min(1).max(512).optional(),
});
const timeseriesSchema = filterSchema.extend({ bucket: z.enum(['day', 'week'], { error: 'must be day or week' }).default('day') });

/** Parses the window and filters; a bad or missing parameter is a 400 naming it. */
function parseFilter<T extends z.ZodType<z.infer<typeof filterSchema>>>(schema: T, req: Request, now: Date): z.infer<T> & { window: AnalyticsFilter } {
  const parsed = schema.safeParse(req.query);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const name = String(first.path[0] ?? 'query');
    throw invalidRequest(`Invalid query parameter ${name}: ${first.message}`);
  }
  const q = parsed.data;
  // Default: the 30 days up to and including now.
  const to = q.to === undefined ? new Date(now.getTime() + 1) : toDate(q.to);
  const from = q.from === undefined ? new Date(to.getTime() - DEFAULT_DAYS * DAY_MS) : toDate(q.from);
  if (from >= to) throw invalidRequest('Invalid query parameters: from must be before to');
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) throw invalidRequest(`Invalid query parameters: the window is longer than ${MAX_WINDOW_DAYS} days`);
  return { ...q, window: { from, to, ...(q.service !== undefined && { service: q.service }), ...(q.client !== undefined && { client: q.client }) } };
}

/** A date is midnight UTC; a date-time keeps its offset (RFC 3339). */
function toDate(value: string): Date {
  return new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
}

export function analyticsRouter(deps: { stores: Stores; now: () => Date }): Router {
  const router = Router();
  const read = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch {
      throw new ServiceError('unavailable', 'Analytics cannot be read right now; try again later');
    }
  };

  router.get('/analytics/rules', async (req, res) => {
    const { window } = parseFilter(filterSchema, req, deps.now());
    const rules = await read(() => deps.stores.analytics.rules(window));
    const answer: { rules: RuleAnalytics[] } = { rules };
    respond(req, res, answer, () =>
      csv(
        ['id', 'version', 'category', 'shown', 'accepted', 'overridden', 'noFeedback', 'overrideRate', 'overrideReasons', 'acceptedSuggestions', 'silentFirings'],
        rules,
      ),
    );
  });

  router.get('/analytics/rules/:id/timeseries', async (req, res) => {
    const id = String(req.params.id);
    if (id.length > 128) throw invalidRequest('Invalid rule id: longer than 128 characters');
    const q = parseFilter(timeseriesSchema, req, deps.now());
    const bucket: Bucket = q.bucket;
    const span = q.window.to.getTime() - q.window.from.getTime();
    if (span / (bucket === 'day' ? DAY_MS : 7 * DAY_MS) > MAX_POINTS) {
      throw invalidRequest(`Invalid query parameters: more than ${MAX_POINTS} ${bucket} buckets; use a shorter window or bucket=week`);
    }
    const points = await read(() => deps.stores.analytics.timeseries(id, bucket, q.window));
    const answer: Timeseries = { id, bucket, points };
    respond(req, res, answer, () => csv(['start', 'shown', 'accepted', 'overridden', 'silentFirings'], points));
  });
  return router;
}

function respond(req: Request, res: Response, body: unknown, toCsv: () => string): void {
  res.vary('Accept');
  if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
    res.type('text/csv; charset=utf-8').send(toCsv());
    return;
  }
  res.json(body);
}

/** RFC 4180 CSV; object fields as JSON text. A text cell that a spreadsheet would run as a formula is prefixed with '. */
export function csv(columns: readonly string[], rows: readonly object[]): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    if (typeof value === 'number') return String(value);
    let text = typeof value === 'string' ? value : JSON.stringify(value);
    if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
