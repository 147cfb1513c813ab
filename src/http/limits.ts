import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Config } from '../config.js';
import { authenticatedClient } from './auth/authenticate.js';
import { HttpError, jsonPointer } from './errors.js';

/**
 * Request limits at the HTTP edge, each answering a clear 4xx before the work they bound is done.
 * Body size is enforced by the JSON parser (413); the whole-request timeout by the service route.
 */

/**
 * Per-client rate limit: keyed by the authenticated client's `iss` (so one EHR cannot starve
 * another), by IP address when CDS_AUTH=off. Runs after authentication, so a forged token cannot
 * spend a real client's budget. Answers 429 with Retry-After.
 */
export function rateLimiter(config: Pick<Config, 'RATE_LIMIT_PER_MINUTE'>): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: config.RATE_LIMIT_PER_MINUTE,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req, res) => {
      const client = authenticatedClient(res);
      return client ? `iss:${client.iss}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: (_req, _res, next) => {
      next(new HttpError(429, 'too-many-requests', 'Too many requests from this client; retry after the number of seconds in Retry-After'));
    },
  });
}

type JsonLimits = Pick<Config, 'MAX_JSON_DEPTH' | 'MAX_PREFETCH_KEYS' | 'MAX_BUNDLE_ENTRIES'>;

/**
 * Shape limits on a parsed body, checked before schema validation so that no later layer walks an
 * unbounded structure: nesting depth, number of prefetch keys, entries per Bundle.
 */
export function jsonLimits(config: JsonLimits): RequestHandler {
  return function jsonLimits(req, _res, next) {
    next(checkJsonLimits(req.body, config));
  };
}

export function checkJsonLimits(body: unknown, config: JsonLimits): HttpError | undefined {
  const tooLarge = (message: string, pointer: string) => new HttpError(413, 'payload-too-large', message, { pointer });
  if (depthExceeds(body, config.MAX_JSON_DEPTH)) {
    return tooLarge(`The request body is nested deeper than ${config.MAX_JSON_DEPTH} levels`, '');
  }
  if (!isObject(body)) return undefined;
  const { context, prefetch } = body;
  if (isObject(context) && entryCount(context.draftOrders) > config.MAX_BUNDLE_ENTRIES) {
    return tooLarge(`context.draftOrders has more than ${config.MAX_BUNDLE_ENTRIES} entries`, '/context/draftOrders/entry');
  }
  if (isObject(prefetch)) {
    const keys = Object.keys(prefetch);
    if (keys.length > config.MAX_PREFETCH_KEYS) {
      return tooLarge(`prefetch has more than ${config.MAX_PREFETCH_KEYS} keys`, '/prefetch');
    }
    const big = keys.find((k) => entryCount(prefetch[k]) > config.MAX_BUNDLE_ENTRIES);
    if (big !== undefined) {
      return tooLarge(`a prefetch Bundle has more than ${config.MAX_BUNDLE_ENTRIES} entries`, jsonPointer(['prefetch', big, 'entry']));
    }
  }
  return undefined;
}

/** Iterative (an explicit stack), so a hostile nesting cannot overflow the call stack here. */
function depthExceeds(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(value)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

function entryCount(bundle: unknown): number {
  return isObject(bundle) && Array.isArray(bundle.entry) ? bundle.entry.length : 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
