import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { notFound, ServiceError, statusOf } from '../shared/errors.js';

/** Body-parser failures, by their documented `type`, mapped to our error codes. */
const PARSER_ERRORS: Record<string, () => ServiceError> = {
  'entity.parse.failed': () => new ServiceError('invalid-json', 'The request body is not valid JSON'),
  'entity.too.large': () => new ServiceError('payload-too-large', 'The request body is larger than the service accepts'),
  'encoding.unsupported': () => new ServiceError('unsupported-media-type', 'Unsupported content encoding'),
  'charset.unsupported': () => new ServiceError('unsupported-media-type', 'Unsupported charset; send UTF-8 JSON'),
  'request.aborted': () => new ServiceError('invalid-request', 'The request was aborted'),
  'request.size.invalid': () => new ServiceError('invalid-request', 'The request body length does not match Content-Length'),
  'stream.encoding.set': () => new ServiceError('internal', 'Internal error'),
};

const badEncoding = () => new ServiceError('invalid-request', 'The request body could not be decompressed: it does not match its Content-Encoding');

/**
 * A body that is not what its Content-Encoding says (gzip, deflate, br): body-parser passes zlib's error
 * on with status 400 but no `type`; zlib's errors carry a numeric `errno` and a string `code`.
 */
function isDecompressionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { status?: unknown; errno?: unknown; code?: unknown };
  return e.status === 400 && typeof e.errno === 'number' && typeof e.code === 'string';
}

export const notFoundHandler: RequestHandler = function notFoundHandler(req, _res, next) {
  next(notFound(`No route ${req.method} ${req.path}`));
};

/**
 * The one place errors become HTTP answers: JSON bodies with a code and a plain message. Unknown
 * errors are logged by name only (messages can carry request content) and answered as a generic 500.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return function errorHandler(err: unknown, _req, res, next) {
    if (res.headersSent) {
      next(err);
      return;
    }
    const type = typeof err === 'object' && err !== null && 'type' in err ? String(err.type) : undefined;
    const parserError = type !== undefined ? PARSER_ERRORS[type] : undefined;
    const known = err instanceof ServiceError ? err : (parserError?.() ?? (isDecompressionError(err) ? badEncoding() : undefined));
    if (known) {
      res.locals.logFields = { ...(res.locals.logFields as object), error: known.code };
      res.status(statusOf(known.code)).json(known.toBody());
      return;
    }
    logger.error({ err: { name: err instanceof Error ? err.name : typeof err } }, 'unhandled error');
    res.status(500).json(new ServiceError('internal', 'Internal error').toBody());
  };
}
