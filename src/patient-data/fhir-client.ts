import { isUnder, type BaseUrl } from './allowlist.js';
import { isFhirObject, type FhirObject } from './fhir-payload.js';
import type { HttpGet } from './http-get.js';
import type { DataGap } from '../shared/patient-data.js';

/**
 * GETs against the EHR's FHIR server on behalf of one hook call. A plain HTTP GET rather than
 * MedplumClient: we need every request bounded by the hook's budget, exactly one retry
 * and only on 429/503, and redirects handled by hand so the token never leaves the allowlisted base
 * (MedplumClient retries 5xx on its own schedule and lets fetch follow redirects).
 */

/** Why something could not be read, in words safe for a card and a log line. */
export interface Failure {
  reason: DataGap['reason'];
  why: string;
  status?: number;
}

export type GetResult = ({ ok: true; body: FhirObject } | { ok: false; failure: Failure }) & { requests: number };

export interface FhirClientOptions {
  base: BaseUrl;
  /** `fhirAuthorization.access_token`; absent for an open server (https://cds-hooks.hl7.org/2.0/#fhir-resource-access). */
  accessToken?: string;
  get: HttpGet;
  /** Monotonic milliseconds. */
  clock: () => number;
  /** Clock value by which every request of this hook call must be done. */
  deadline: number;
  requestTimeoutMs: number;
  /** Largest response body read, in bytes. */
  maxResponseBytes: number;
  /** Bytes read in this hook call, all requests together. */
  maxCallBytes: number;
  /** Requests this hook call may send. */
  maxRequests: number;
  /** Requests of this hook call in flight at once. */
  maxConcurrency: number;
  /** Deepest JSON nesting accepted in an answer. */
  maxDepth: number;
  /** Bytes held by every hook call in progress (process-wide), and their cap. */
  inFlight: { gauge: ByteGauge; max: number };
}

/**
 * Bytes of FHIR answers held by the hook calls in progress, process-wide: each call adds what it reads
 * and gives it back when it ends (FhirClient.release), so concurrent calls cannot together read more
 * than the heap holds (issue 16: three calls with 4 MB answers crashed a 96 MB heap).
 */
export class ByteGauge {
  held = 0;

  take(bytes: number, max: number): boolean {
    if (this.held + bytes > max) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}

/** The gauge every hook call of this process shares. */
export const PROCESS_BYTES = new ByteGauge();

const MAX_REDIRECTS = 3;
// A retry is sent only if, after waiting, at least this much of the budget is left for it.
const MIN_RETRY_WINDOW_MS = 50;

export class FhirClient {
  private readonly headers: Readonly<Record<string, string>>;
  /** Bytes read so far in this call (also held in the process gauge until release). */
  private bytes = 0;
  private requests = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: FhirClientOptions) {
    this.headers = {
      accept: 'application/fhir+json, application/json;q=0.9',
      ...(options.accessToken !== undefined && { authorization: `Bearer ${options.accessToken}` }),
    };
  }

  /** Gives this call's bytes back to the process gauge: the hook call is done with its answers. */
  release(): void {
    this.options.inFlight.gauge.give(this.bytes);
    this.bytes = 0;
  }

  /**
   * Counts an answer's bytes against the call's and the process's budgets; `cut` hears which one refused, per
   * request (requests run concurrently, so the reason cannot live on the client).
   */
  private take(bytes: number, cut: (by: 'call' | 'process') => void): boolean {
    const { maxCallBytes, inFlight } = this.options;
    if (this.bytes + bytes > maxCallBytes) cut('call');
    else if (!inFlight.gauge.take(bytes, inFlight.max)) cut('process');
    else {
      this.bytes += bytes;
      return true;
    }
    return false;
  }

  /** Waits for one of the call's maxConcurrency slots. */
  private async acquire(): Promise<void> {
    if (this.running < this.options.maxConcurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /** Milliseconds of the budget left. */
  remaining(): number {
    return this.options.deadline - this.options.clock();
  }

  /** GETs a path relative to the base (`Patient/123`, `Observation?...`) or an absolute URL under it (next links). */
  async get(target: string): Promise<GetResult> {
    const first = this.resolve(target);
    if (!first) return { ok: false, failure: { reason: 'fetch-failed', why: 'the link points outside the FHIR server' }, requests: 0 };
    let url: URL = first;
    let requests = 0;
    let retried = false;
    let redirects = 0;
    for (;;) {
      const remaining = this.remaining();
      if (remaining <= 0) return { ok: false, failure: { reason: 'timeout', why: 'the time allowed for the FHIR server ran out' }, requests };
      if (this.requests >= this.options.maxRequests) {
        return { ok: false, failure: { reason: 'truncated', why: `not read: more than ${this.options.maxRequests} requests to the FHIR server in one call` }, requests };
      }
      this.requests++;
      requests++;
      let cutBy: 'call' | 'process' | undefined;
      try {
        await this.acquire();
        let res: Awaited<ReturnType<HttpGet>>;
        try {
          res = await this.options.get(url, {
            headers: this.headers,
            timeoutMs: Math.ceil(Math.min(this.options.requestTimeoutMs, this.remaining())),
            maxBytes: this.options.maxResponseBytes,
            take: (bytes) => this.take(bytes, (by) => (cutBy = by)),
          });
        } finally {
          this.releaseSlot();
        }
        if (res.status >= 300 && res.status < 400) {
          const location = res.header('location');
          const next: URL | undefined = location ? safeUrl(location, url) : undefined;
          if (!next || !isUnder(next, this.options.base) || redirects >= MAX_REDIRECTS) {
            return { ok: false, failure: { reason: 'fetch-failed', why: 'the FHIR server redirected to another address, not followed', status: res.status }, requests };
          }
          redirects++;
          url = next;
          continue;
        }
        if ((res.status === 429 || res.status === 503) && !retried) {
          const wait = retryAfterMs(res.header('retry-after'));
          if (wait !== undefined && wait + MIN_RETRY_WINDOW_MS < this.remaining()) {
            retried = true;
            if (wait > 0) await sleep(wait);
            continue;
          }
          return { ok: false, failure: statusFailure(res.status), requests };
        }
        if (res.status < 200 || res.status >= 300) {
          return { ok: false, failure: statusFailure(res.status), requests };
        }
        let body: unknown;
        try {
          body = JSON.parse(res.body);
        } catch {
          return { ok: false, failure: { reason: 'invalid-response', why: "the FHIR server's answer was not JSON", status: res.status }, requests };
        }
        if (tooDeep(body, this.options.maxDepth)) {
          return { ok: false, failure: { reason: 'invalid-response', why: `the FHIR server's answer was nested deeper than ${this.options.maxDepth} levels`, status: res.status }, requests };
        }
        if (!isFhirObject(body)) {
          return { ok: false, failure: { reason: 'invalid-response', why: "the FHIR server's answer was not a FHIR resource", status: res.status }, requests };
        }
        return { ok: true, body, requests };
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        if (name === 'TimeoutError') {
          return { ok: false, failure: { reason: 'timeout', why: 'the FHIR server did not answer in time' }, requests };
        }
        if (name === 'TooLargeError') {
          const cut = cutBy;
          const why =
            cut === 'call'
              ? `not read in full: the FHIR server's answers to this call exceeded ${this.options.maxCallBytes} bytes in all`
              : cut === 'process'
                ? 'not read in full: the service was reading too much FHIR data at once'
                : `the FHIR server's answer was larger than ${this.options.maxResponseBytes} bytes`;
          return { ok: false, failure: { reason: cut === undefined ? 'invalid-response' : 'truncated', why }, requests };
        }
        return { ok: false, failure: { reason: 'fetch-failed', why: 'the FHIR server could not be reached' }, requests };
      }
    }
  }

  private resolve(target: string): URL | undefined {
    const { base } = this.options;
    const url = /^[a-z][a-z0-9+.-]*:/i.test(target) ? safeUrl(target) : safeUrl(`${base.origin}${base.path}/${target.replace(/^\/+/, '')}`);
    return url && isUnder(url, base) ? url : undefined;
  }
}

function statusFailure(status: number): Failure {
  if (status === 401 || status === 403) return { reason: 'unauthorized', why: `the FHIR server refused access, HTTP ${status}`, status };
  if (status === 404 || status === 410) return { reason: 'not-found', why: `the FHIR server did not find it, HTTP ${status}`, status };
  if (status === 429 || status === 503) return { reason: 'fetch-failed', why: `the FHIR server was busy, HTTP ${status}`, status };
  if (status >= 500) return { reason: 'fetch-failed', why: `the FHIR server failed, HTTP ${status}`, status };
  return { reason: 'fetch-failed', why: `the FHIR server rejected the request, HTTP ${status}`, status };
}

/** Retry-After as milliseconds from now (seconds or an HTTP date); 0 when absent; undefined when unreadable. */
function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return 0;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function safeUrl(raw: string, base?: URL): URL | undefined {
  try {
    const url = new URL(raw, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a parsed answer nests deeper than `max` (iterative: a deep answer must not overflow the stack here or later). */
function tooDeep(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
