import type { ErrorCode } from '../shared/errors.js';

/**
 * The one place an error's meaning becomes an HTTP status (as Medplum's getStatus(outcome)): errors
 * thrown anywhere below carry a code (src/shared/errors.ts), and the error handler, the CLI and the
 * scenario runner read the status here.
 */
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
