/**
 * The one error type that leaves the service as an HTTP answer. Everything thrown below the HTTP
 * edge that is meant for the caller is an HttpError; anything else becomes a generic 500.
 */
export type ErrorCode =
  | 'invalid-request'
  | 'invalid-json'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'not-found'
  | 'method-not-allowed'
  | 'precondition-failed'
  | 'unauthorized'
  | 'forbidden'
  | 'too-many-requests'
  | 'timeout'
  | 'unavailable'
  | 'internal';

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  /** JSON pointer into the request body of the offending field, when there is one. */
  pointer?: string;
  details?: readonly string[];
}

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly extra: { pointer?: string; details?: readonly string[] } = {},
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { error: this.code, message: this.message, ...this.extra };
  }
}

export const badRequest = (message: string, pointer?: string, details?: readonly string[]): HttpError =>
  new HttpError(400, 'invalid-request', message, { ...(pointer !== undefined && { pointer }), ...(details && { details }) });

export const notFound = (message: string): HttpError => new HttpError(404, 'not-found', message);

export const preconditionFailed = (message: string, details?: readonly string[]): HttpError =>
  new HttpError(412, 'precondition-failed', message, details ? { details } : {});
