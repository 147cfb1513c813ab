import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Config } from '../config.js';
import { authenticatedClient } from './auth/authenticate.js';
import { ServiceError } from '../shared/errors.js';
import { isObject, jsonPointer } from '../shared/syntax.js';

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
    // draft-7's RateLimit and RateLimit-Policy headers: draft-8 adds a partition key, a SHA-256 of the
    // client key on every request (about 25 of the limiter's 35 µs per request, measured in-process).
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req, res) => {
      const client = authenticatedClient(res);
      return client ? `iss:${client.iss}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: (_req, _res, next) => {
      next(new ServiceError('too-many-requests', 'Too many requests from this client; retry after the number of seconds in Retry-After'));
    },
  });
}

type JsonLimits = Pick<Config, 'MAX_JSON_DEPTH' | 'MAX_ARRAY_ITEMS' | 'MAX_PREFETCH_KEYS' | 'MAX_BUNDLE_ENTRIES'>;

/**
 * Shape limits on a parsed body, checked before schema validation so that no later layer walks an
 * unbounded structure: nesting depth, items per array (a long array of wrong-typed items would
 * otherwise cost one validation issue each), number of prefetch keys, entries per Bundle.
 */
export function jsonLimits(config: JsonLimits): RequestHandler {
  return function jsonLimits(req, _res, next) {
    next(checkJsonLimits(req.body, config));
  };
}

function checkJsonLimits(body: unknown, config: JsonLimits): ServiceError | undefined {
  const tooLarge = (message: string, pointer: string) => new ServiceError('payload-too-large', message, { pointer });
  // Nearly every body is within its limits: the allocation-free pass answers that, and only a body it
  // refuses pays for the walk that names the place.
  const shape = exceedsShape(body, config.MAX_JSON_DEPTH, config.MAX_ARRAY_ITEMS)
    ? shapeViolation(body, config.MAX_JSON_DEPTH, config.MAX_ARRAY_ITEMS)
    : undefined;
  if (shape?.kind === 'depth') {
    return tooLarge(`The request body is nested deeper than ${config.MAX_JSON_DEPTH} levels`, shape.pointer);
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
  if (shape?.kind === 'array') {
    return tooLarge(`An array in the request body has more than ${config.MAX_ARRAY_ITEMS} items`, shape.pointer);
  }
  return undefined;
}

/**
 * Whether any node is nested deeper than maxDepth or any array holds more than maxItems: the same
 * question {@link shapeViolation} answers, without building a path for each node. Iterative, with two
 * parallel stacks of values and depths.
 */
function exceedsShape(root: unknown, maxDepth: number, maxItems: number): boolean {
  if (typeof root !== 'object' || root === null) return false;
  const values: object[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    if (Array.isArray(value)) {
      if (value.length > maxItems) return true;
      for (let i = 0; i < value.length; i++) {
        const child: unknown = value[i];
        if (typeof child === 'object' && child !== null) {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      // A parsed JSON object has only own enumerable keys, so for-in sees exactly what Object.entries does.
      for (const key in value) {
        const child: unknown = (value as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null) {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

interface Node {
  value: unknown;
  depth: number;
  parent?: Node;
  key?: string;
}

/**
 * The first node nested too deep or array too long. Iterative (an explicit stack), so a hostile
 * nesting cannot overflow the call stack here; a node's path is rebuilt only for the answer.
 */
function shapeViolation(root: unknown, maxDepth: number, maxItems: number): { kind: 'depth' | 'array'; pointer: string } | undefined {
  if (typeof root !== 'object' || root === null) return undefined;
  const stack: Node[] = [{ value: root, depth: 1 }];
  let longArray: Node | undefined;
  while (stack.length > 0) {
    const node = stack.pop()!;
    const { value, depth } = node;
    if (depth > maxDepth) return { kind: 'depth', pointer: pointerOf(node) };
    const isArray = Array.isArray(value);
    if (isArray && value.length > maxItems) {
      // Bundle entry counts get their own, more specific answer; any other long array is refused as is.
      longArray ??= node;
      continue;
    }
    const children = isArray ? value.entries() : Object.entries(value as object);
    for (const [key, child] of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1, parent: node, key: String(key) });
    }
  }
  return longArray && { kind: 'array', pointer: pointerOf(longArray) };
}

function pointerOf(node: Node): string {
  const keys: string[] = [];
  for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) keys.unshift(n.key);
  return jsonPointer(keys);
}

function entryCount(bundle: unknown): number {
  return isObject(bundle) && Array.isArray(bundle.entry) ? bundle.entry.length : 0;
}

