import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { HttpError, notFound } from './errors.js';

/** Body-parser failures, by their documented `type`, mapped to our error codes. */
const PARSER_ERRORS: Record<string, () => HttpError> = {
  'entity.parse.failed': () => new HttpError(400, 'invalid-json', 'The request body is not valid JSON'),
  'entity.too.large': () => new HttpError(413, 'payload-too-large', 'The request body is larger than the service accepts'),
  'encoding.unsupported': () => new HttpError(415, 'unsupported-media-type', 'Unsupported content encoding'),
  'charset.unsupported': () => new HttpError(415, 'unsupported-media-type', 'Unsupported charset; send UTF-8 JSON'),
  'request.aborted': () => new HttpError(400, 'invalid-request', 'The request was aborted'),
  'request.size.invalid': () => new HttpError(400, 'invalid-request', 'The request body length does not match Content-Length'),
  'stream.encoding.set': () => new HttpError(500, 'internal', 'Internal error'),
};

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
    const httpError = err instanceof HttpError ? err : parserError?.();
    if (httpError) {
      res.locals.logFields = { ...(res.locals.logFields as object), error: httpError.code };
      res.status(httpError.status).json(httpError.toBody());
      return;
    }
    logger.error({ err: { name: err instanceof Error ? err.name : typeof err } }, 'unhandled error');
    res.status(500).json(new HttpError(500, 'internal', 'Internal error').toBody());
  };
}
