/**
 * Errors meant for the caller carry what went wrong as a code; `statusOf` below is the one place a
 * code becomes an HTTP status (as Medplum's getStatus(outcome)): the HTTP edge's error handler, the
 * CLI and the scenario runner all read it. Anything else thrown is an internal error and leaves as a
 * generic 500.
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

/** HTTP status per error code. */
const STATUS: Readonly<Record<ErrorCode, number>> = {
  'invalid-request': 400,
  'invalid-json': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'precondition-failed': 412,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'too-many-requests': 429,
  internal: 500,
  unavailable: 503,
  timeout: 503,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}
