/**
 * Errors meant for the caller carry what went wrong as a code; the HTTP edge maps each code to a
 * status in one place (src/http/errors.ts `statusOf`), and the CLI and scenario runner read the same
 * code. Anything else thrown is an internal error and leaves as a generic 500.
 */
export type ErrorCode =
  | 'invalid-request'
  | 'invalid-json'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'not-found'
  /** Data the service needs could not be obtained at all (CDS Hooks §Prefetch: 412). */
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

export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
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

export const invalidRequest = (message: string, pointer?: string, details?: readonly string[]): ServiceError =>
  new ServiceError('invalid-request', message, { ...(pointer !== undefined && { pointer }), ...(details && { details }) });

export const notFound = (message: string): ServiceError => new ServiceError('not-found', message);
