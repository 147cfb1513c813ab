import path from 'node:path';
import { z } from 'zod';
import { replayCapacity } from './stores/memory/replay-cache.js';
import { isTimeZone } from './shared/syntax.js';

/**
 * The service's whole configuration, read from the environment in this one place and validated
 * before anything listens. Each key documents itself; the README's config table mirrors this.
 */
const commaList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );

const onOff = z.enum(['on', 'off']);


export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RULES_DIR: z.string().min(1).default('rules'),
  /** Re-read the ruleset when files under RULES_DIR change (SIGHUP always reloads). */
  RULES_WATCH: onOff.default('on'),
  /** A reloaded ruleset must pass the scenarios in RULES_DIR/tests, else it is refused and the old one keeps serving. */
  RULES_RELOAD_REQUIRE_SCENARIOS: onOff.default('on'),
  /** Largest request body accepted, in bytes. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Whole-request budget: a hook call answers (or fails cleanly) within this. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).default(2_000),
  /** Budget for all FHIR fetching in one hook call. */
  FHIR_BUDGET_MS: z.coerce.number().int().min(10).default(400),
  /** Timeout of one FHIR HTTP request. */
  FHIR_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(10).default(300),
  /** Search paging caps: pages followed per search and resources kept per search. */
  FHIR_MAX_PAGES: z.coerce.number().int().min(1).default(5),
  FHIR_MAX_RESOURCES: z.coerce.number().int().min(1).default(1000),
  /** Largest FHIR response body read, in bytes; a larger answer is cut off and becomes a data gap. */
  FHIR_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).default(4_194_304),
  /** Bytes read from the FHIR server in one hook call, all requests and pages together. */
  FHIR_MAX_CALL_BYTES: z.coerce.number().int().min(1024).default(8_388_608),
  /** FHIR requests one hook call may send (searches, pages, redirects, retries, Medication reads). */
  FHIR_MAX_REQUESTS: z.coerce.number().int().min(1).default(60),
  /** FHIR requests of one hook call in flight at once. */
  FHIR_MAX_CONCURRENCY: z.coerce.number().int().min(1).default(8),
  /** Bytes of FHIR answers held by all hook calls in progress in this process, at most. */
  FHIR_MAX_BYTES_IN_FLIGHT: z.coerce.number().int().min(1024).default(16_777_216),
  /** Base URLs of FHIR servers the service may send an EHR token to (comma-separated). */
  FHIR_SERVER_ALLOWLIST: commaList.default([]),
  /** Client JWT authentication; `off` is for local use only. */
  CDS_AUTH: onOff.default('on'),
  /** Externally visible base URL, used as the expected JWT `aud` prefix. */
  PUBLIC_BASE_URL: z.url().optional(),
  /** JSON file describing trusted CDS clients (issuers, keys, FHIR servers). */
  CDS_CLIENTS_FILE: z.string().min(1).optional(),
  /** Clock skew tolerated on JWT `exp` and `iat`, in seconds. */
  JWT_CLOCK_SKEW_S: z.coerce.number().int().min(0).max(300).default(60),
  /** Longest JWT lifetime (`exp - iat`) accepted, in seconds; also bounds how long a `jti` is remembered. */
  JWT_MAX_LIFETIME_S: z.coerce.number().int().min(1).max(3600).default(600),
  /** Timeout of one JWKS download (jwksUrl or an allowed jku). */
  JWKS_TIMEOUT_MS: z.coerce.number().int().min(50).default(2_000),
  /** How long a downloaded JWKS is used before it is fetched again (an unknown kid refetches sooner). */
  JWKS_CACHE_S: z.coerce.number().int().min(1).default(600),
  /** Public OIDC client id the console signs operators in with (authorization code + PKCE, with ADMIN_OIDC_ISSUER). */
  ADMIN_OIDC_CLIENT_ID: z.string().min(1).max(200).optional(),
  /** Scopes the console asks for when it signs an operator in. */
  ADMIN_OIDC_SCOPE: z.string().min(1).max(500).default('openid'),
  /**
   * Most `jti` values remembered per client (issuer) for replay protection, per process. Unset: derived
   * from RATE_LIMIT_PER_MINUTE, JWT_MAX_LIFETIME_S and JWT_CLOCK_SKEW_S (replayCapacity), 7,800 by default.
   */
  JTI_CACHE_MAX: z.coerce.number().int().min(100).optional(),
  /** Deepest JSON nesting accepted in a request body, and in an answer from the EHR's FHIR server. */
  MAX_JSON_DEPTH: z.coerce.number().int().min(8).default(64),
  /** Most items accepted in any one JSON array of a request body. */
  MAX_ARRAY_ITEMS: z.coerce.number().int().min(10).default(1_000),
  /** Most prefetch keys accepted in one request. */
  MAX_PREFETCH_KEYS: z.coerce.number().int().min(1).default(50),
  /** Most entries accepted in one Bundle (context.draftOrders or a prefetch Bundle). */
  MAX_BUNDLE_ENTRIES: z.coerce.number().int().min(1).default(1_000),
  /** Requests per minute per CDS client (per IP address when CDS_AUTH=off). */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Origins allowed by CORS (comma-separated); `*` allows any origin without credentials. */
  CORS_ORIGINS: commaList.default(['*']),
  /** Time to let in-flight requests finish after SIGTERM before exiting. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /** Serve Prometheus metrics at `GET /metrics` (unauthenticated: restrict it at the network level). */
  METRICS_ENABLED: onOff.default('on'),
  /**
   * Operator credential for the admin routes (`GET /feedback`, `/admin/*`, `/analytics/*`): callers send
   * `Authorization: Bearer <ADMIN_TOKEN>`. At least 32 characters (e.g. `openssl rand -hex 32`).
   */
  ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  /** OpenID Connect issuer whose access tokens admit operators (its discovery document names the JWKS). */
  ADMIN_OIDC_ISSUER: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** Audience an operator's access token must carry (required with ADMIN_OIDC_ISSUER). */
  ADMIN_OIDC_AUDIENCE: z.string().min(1).optional(),
  /** Role an operator's access token must carry. */
  ADMIN_OIDC_ROLE: z.string().min(1).default('cds-admin'),
  /** Claim holding the roles (a dotted path such as `realm_access.roles` reaches a nested claim). */
  ADMIN_OIDC_ROLE_CLAIM: z.string().min(1).default('roles'),
  /** Cards remembered (for 24 h, oldest dropped first) so feedback can be attributed to the rule that raised them. */
  FEEDBACK_MAX_CARDS: z.coerce.number().int().min(0).default(20_000),
  /** PostgreSQL for the card ledger, feedback, analytics and replay protection, shared by every replica. */
  DATABASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
  ),
  /** Where the embedded database (PGlite) keeps its files when DATABASE_URL is unset: one process only. */
  DATA_DIR: z.string().min(1).default('data'),
  /** Most connections to DATABASE_URL per replica. */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  /**
   * The hospital's clock: the IANA time zone cards show the time of day of vital signs in (`America/Chicago`).
   * Not the server's zone, which is often UTC in a container.
   */
  DISPLAY_TIME_ZONE: z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone name, e.g. America/New_York or Europe/Zurich'),
  /** Cards, feedback and silent firings older than this are deleted (daily). */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  /** Card-ledger records waiting to be written, at most; past it they are counted as a gap. */
  LEDGER_QUEUE_MAX: z.coerce.number().int().min(100).default(50_000),
  /** Most card-ledger records written in one statement. */
  LEDGER_BATCH_MAX: z.coerce.number().int().min(1).max(5_000).default(500),
  /** Longest wait before queued card-ledger records are written, in milliseconds. */
  LEDGER_FLUSH_MS: z.coerce.number().int().min(1).max(10_000).default(100),
});

export type Config = Omit<z.infer<typeof configSchema>, 'JTI_CACHE_MAX'> & { JTI_CACHE_MAX: number };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config: Config = {
    ...result.data,
    JTI_CACHE_MAX:
      result.data.JTI_CACHE_MAX ??
      replayCapacity({ ratePerMinute: result.data.RATE_LIMIT_PER_MINUTE, maxLifetimeS: result.data.JWT_MAX_LIFETIME_S, clockSkewS: result.data.JWT_CLOCK_SKEW_S }),
  };
  if (config.CDS_AUTH === 'on') {
    const missing = (['PUBLIC_BASE_URL', 'CDS_CLIENTS_FILE'] as const).filter((k) => config[k] === undefined);
    if (missing.length > 0) {
      throw new ConfigError(
        `Invalid configuration:\n${missing.map((k) => `  ${k}: required when CDS_AUTH=on (set CDS_AUTH=off for local use only)`).join('\n')}`,
      );
    }
  }
  if ((config.ADMIN_OIDC_ISSUER === undefined) !== (config.ADMIN_OIDC_AUDIENCE === undefined)) {
    throw new ConfigError('Invalid configuration:\n  ADMIN_OIDC_ISSUER and ADMIN_OIDC_AUDIENCE: set both or neither');
  }
  if (config.FHIR_BUDGET_MS >= config.REQUEST_TIMEOUT_MS) {
    // Otherwise a slow FHIR server would hit the whole-request timeout (503) before the data layer could
    // answer with what it has (200 + data-quality card, or 412).
    throw new ConfigError(
      `Invalid configuration:\n  FHIR_BUDGET_MS (${config.FHIR_BUDGET_MS}) must be below REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS})`,
    );
  }
  config.RULES_DIR = path.resolve(config.RULES_DIR);
  config.DATA_DIR = path.resolve(config.DATA_DIR);
  if (config.FHIR_REQUEST_TIMEOUT_MS > config.FHIR_BUDGET_MS) {
    config.FHIR_REQUEST_TIMEOUT_MS = config.FHIR_BUDGET_MS;
  }
  return config;
}

/** The limits on FHIR fetching for one hook call, named as the data layer's options name them. */
export function fhirLimits(config: Config) {
  return {
    budgetMs: config.FHIR_BUDGET_MS,
    requestTimeoutMs: config.FHIR_REQUEST_TIMEOUT_MS,
    maxPages: config.FHIR_MAX_PAGES,
    maxResources: config.FHIR_MAX_RESOURCES,
    maxResponseBytes: config.FHIR_MAX_RESPONSE_BYTES,
    maxCallBytes: config.FHIR_MAX_CALL_BYTES,
    maxRequests: config.FHIR_MAX_REQUESTS,
    maxConcurrency: config.FHIR_MAX_CONCURRENCY,
    maxBytesInFlight: config.FHIR_MAX_BYTES_IN_FLIGHT,
    maxDepth: config.MAX_JSON_DEPTH,
  };
}

/** A config for tests: defaults, auth off, quiet logs, overridable per test. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ CDS_AUTH: 'off', LOG_LEVEL: 'silent', RULES_WATCH: 'off' }), ...overrides };
}
