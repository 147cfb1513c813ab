import { pino, type Logger, type DestinationStream } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * Structured JSON logs. Callers log ids, counts and timings only: never request bodies, tokens or
 * patient data. The redact list is a second line of defence for fields that must never appear.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  return pino(
    {
      name: 'inotrope-cds',
      level: config.LOG_LEVEL,
      base: undefined,
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          'access_token',
          '*.access_token',
          'fhirAuthorization',
          '*.fhirAuthorization',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
