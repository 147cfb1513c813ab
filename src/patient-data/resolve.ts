import type { Logger } from 'pino';
import { isAllowed, parseBaseUrl } from './allowlist.js';
import { FhirClient, PROCESS_BYTES } from './fhir-client.js';
import { httpGet, type HttpGet } from './http-get.js';
import { dataGap } from './gaps.js';
import { classifyPayload, type FhirObject, type Payload } from './fhir-payload.js';
import { keepNewest, latestCount } from './latest.js';
import { MedicationResolver } from './medications.js';
import { buildPatientData, DRAFT_OWNER, readActiveOrders, readDraftOrders, type KeyResources, type OrderInput } from './normalise.js';
import type { DataGap, DataRequirement, FetchRecord, ResolvedData } from '../shared/patient-data.js';
import type { DataRequest } from './data-request.js';
import { ServiceError } from '../shared/errors.js';
import { fillTemplate, tokenValues } from './tokens.js';

/**
 * Obtains the data the rules need for one hook call (CDS Hooks 2.0, https://cds-hooks.hl7.org/2.0/#providing-fhir-resources-to-a-cds-service): each key from prefetch
 * when the EHR sent it usable, else from the EHR's FHIR server (allowlisted, all keys at once, within
 * one time budget), then normalises it into PatientData. What could not be obtained becomes a gap
 * the rules turn into a data-quality card, also when a key is missing and there is nowhere to fetch it
 * from (no fhirServer, or one not on the allowlist); only when nothing usable about the patient was
 * obtained does the call fail with 412.
 */

export interface DataOptions {
  /** Base URLs the EHR's token may be sent to: the authenticated client's own list, else FHIR_SERVER_ALLOWLIST. */
  fhirServerAllowlist: readonly string[];
  /** All FHIR fetching of one hook call ends within this many milliseconds. */
  budgetMs: number;
  /** Timeout of one HTTP request (further capped by what is left of the budget). */
  requestTimeoutMs: number;
  /** Largest response body read from the FHIR server, in bytes (bounded memory per hook call). */
  maxResponseBytes: number;
  /** Pages followed per `paging: 'all'` search, the first included. */
  maxPages: number;
  /** Resources kept per search key. */
  maxResources: number;
  /** Bytes read from the FHIR server in one call, all requests together. */
  maxCallBytes: number;
  /** Requests one call may send, and how many at once. */
  maxRequests: number;
  maxConcurrency: number;
  /** Bytes of FHIR answers all calls in progress may hold (process-wide). */
  maxBytesInFlight: number;
  /** Deepest JSON nesting accepted in a FHIR answer. */
  maxDepth: number;
  /** HTTP GET; defaults to httpGet (node:http keep-alive). */
  httpGet?: HttpGet;
  /** Receives one line per key and per gap: key names, resource types, statuses, durations only. */
  logger?: Pick<Logger, 'debug' | 'warn'>;
  /** Monotonic milliseconds for the budget and durations; defaults to performance.now. */
  clock?: () => number;
}

/** Required data could not be obtained at all: the edge answers 412 (CDS Hooks §Prefetch). */
export class DataUnavailableError extends ServiceError {
  override name = 'DataUnavailableError';
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super('precondition-failed', message, { details });
  }
}

interface KeyPlan {
  requirement: DataRequirement;
  /** The filled template; undefined when a token has no value (such a key is never fetched). */
  url?: string;
  prefetch: Payload | { kind: 'absent' };
}

interface KeyOutcome {
  requirement: DataRequirement;
  /** The resources the key carried; undefined when it could not be obtained. */
  resources?: readonly FhirObject[];
  /** Something was learnt about the patient (data, or the EHR's word that there is none), not merely nothing asked. */
  informative: boolean;
  active: readonly OrderInput[];
  gaps: DataGap[];
  record: FetchRecord;
  status?: number;
}

interface Context {
  options: DataOptions;
  client: FhirClient | undefined;
  /** Why the FHIR server cannot be used, when there is no client. */
  noServerWhy: string;
  medications: MedicationResolver;
  clock: () => number;
  patientId: string;
}

export async function resolvePatientData(
  request: DataRequest,
  requirements: readonly DataRequirement[],
  options: DataOptions,
): Promise<ResolvedData> {
  const clock = options.clock ?? (() => performance.now());
  const deadline = clock() + options.budgetMs;
  const tokens = tokenValues(request.context);
  const prefetch = request.prefetch ?? {};
  const plans: KeyPlan[] = requirements.map((requirement) => {
    const url = fillTemplate(requirement.template, tokens);
    return {
      requirement,
      ...(url !== undefined && { url }),
      prefetch: Object.hasOwn(prefetch, requirement.key) ? classifyPayload(prefetch[requirement.key], requirement) : { kind: 'absent' },
    };
  });

  // A key that cannot be fetched (no fhirServer, or one not on the allowlist) becomes a gap: the cards
  // that can be computed from the rest still come, with a data-quality card naming what is missing.
  const allowed = request.fhirServer !== undefined && isAllowed(request.fhirServer, options.fhirServerAllowlist);
  const client = allowed
    ? new FhirClient({
        base: parseBaseUrl(request.fhirServer!)!,
        ...(request.accessToken !== undefined && { accessToken: request.accessToken }),
        get: options.httpGet ?? httpGet,
        clock,
        deadline,
        requestTimeoutMs: options.requestTimeoutMs,
        maxResponseBytes: options.maxResponseBytes,
        maxCallBytes: options.maxCallBytes,
        maxRequests: options.maxRequests,
        maxConcurrency: options.maxConcurrency,
        maxDepth: options.maxDepth,
        inFlight: { gauge: PROCESS_BYTES, max: options.maxBytesInFlight },
      })
    : undefined;
  try {
    return await resolveWith(request, plans, options, client, clock);
  } finally {
    client?.release();
  }
}

async function resolveWith(
  request: DataRequest,
  plans: KeyPlan[],
  options: DataOptions,
  client: FhirClient | undefined,
  clock: () => number,
): Promise<ResolvedData> {
  const noServerWhy =
    request.fhirServer === undefined ? 'no FHIR server was given to read it from' : "the FHIR server is not on this service's allowlist";
  const ctx: Context = { options, client, noServerWhy, medications: new MedicationResolver(client, noServerWhy, clock), clock, patientId: request.context.patientId };

  const drafts = readDraftOrders(request);
  ctx.medications.remember(drafts.medications);
  for (const plan of plans) if (plan.prefetch.kind === 'data') ctx.medications.remember(plan.prefetch.resources);

  const draftOrders = Promise.all(
    drafts.medicationRequests.map(async (r): Promise<OrderInput> => ({ request: r, lookup: await ctx.medications.lookup(r, DRAFT_OWNER.key), owner: DRAFT_OWNER })),
  );
  const outcomes = await Promise.all(plans.map((plan) => obtain(plan, ctx)));
  const drafted = await draftOrders;

  for (const o of outcomes) {
    options.logger?.debug({ ...o.record, ...(o.status !== undefined && { status: o.status }) }, 'patient data key');
  }
  if (outcomes.length > 0 && outcomes.every((o) => !o.informative)) {
    throw new DataUnavailableError(
      'No usable patient data could be obtained',
      outcomes.flatMap((o) => o.gaps.map((g) => g.message)),
    );
  }

  const keys: KeyResources[] = outcomes.flatMap((o) =>
    o.resources !== undefined && o.requirement.resourceType !== 'MedicationRequest' ? [{ requirement: o.requirement, resources: o.resources }] : [],
  );
  const built = buildPatientData({
    request,
    drafts: drafted,
    otherDraftOrders: drafts.others,
    active: outcomes.flatMap((o) => o.active),
    keys,
  });
  const gaps = [...drafts.gaps, ...outcomes.flatMap((o) => o.gaps), ...built.gaps];
  for (const g of gaps) options.logger?.warn({ key: g.key, resourceType: g.resourceType, reason: g.reason }, 'patient data gap');
  for (const f of ctx.medications.fetches) options.logger?.debug({ ...f }, 'patient data key');
  return { data: { ...built.data, gaps }, fetches: [...outcomes.map((o) => o.record), ...ctx.medications.fetches] };
}

/** One key: from prefetch when usable, else from the FHIR server, else a gap. */
async function obtain(plan: KeyPlan, ctx: Context): Promise<KeyOutcome> {
  const { requirement, prefetch } = plan;
  const start = ctx.clock();
  const record = (source: FetchRecord['source'], outcome: FetchRecord['outcome'], requests: number): FetchRecord => ({
    key: requirement.key,
    resourceType: requirement.resourceType,
    source,
    outcome,
    durationMs: Math.round(ctx.clock() - start),
    requests,
  });

  if (prefetch.kind === 'null' || (prefetch.kind === 'absent' && plan.url === undefined)) {
    return { requirement, resources: [], informative: prefetch.kind === 'null', active: [], gaps: [], record: record('prefetch', 'null', 0) };
  }
  if (prefetch.kind === 'data') {
    const pages = await collectPages(prefetch, requirement, ctx);
    return withOrders(requirement, pages.resources, pages.gaps, record('prefetch', pages.gaps.length > 0 ? 'truncated' : 'ok', pages.requests), ctx);
  }
  if (!ctx.client || plan.url === undefined) {
    const gap =
      prefetch.kind === 'absent'
        ? dataGap(requirement, 'unavailable', `not sent with the request, and ${ctx.noServerWhy}`)
        : prefetch.kind === 'operation-outcome'
          ? dataGap(requirement, 'operation-outcome', 'the EHR sent an error instead of the data')
          : dataGap(requirement, 'invalid-response', `the EHR sent unusable data: ${prefetch.kind === 'invalid' ? prefetch.why : 'nothing'}`);
    return { requirement, informative: false, active: [], gaps: [gap], record: record('prefetch', gap.reason, 0) };
  }

  const answer = await ctx.client.get(plan.url);
  if (!answer.ok) {
    const { reason, why, status } = answer.failure;
    return {
      requirement,
      informative: false,
      active: [],
      gaps: [dataGap(requirement, reason, why)],
      record: record('fhir-server', reason, answer.requests),
      ...(status !== undefined && { status }),
    };
  }
  const payload = classifyPayload(answer.body, requirement);
  if (payload.kind !== 'data') {
    const gap =
      payload.kind === 'operation-outcome'
        ? dataGap(requirement, 'operation-outcome', 'the FHIR server answered with an error')
        : dataGap(requirement, 'invalid-response', `the FHIR server's answer was unusable: ${payload.kind === 'invalid' ? payload.why : 'nothing'}`);
    return { requirement, informative: false, active: [], gaps: [gap], record: record('fhir-server', gap.reason, answer.requests) };
  }
  const pages = await collectPages(payload, requirement, ctx);
  const requests = answer.requests + pages.requests;
  return withOrders(requirement, pages.resources, pages.gaps, record('fhir-server', pages.gaps.length > 0 ? 'truncated' : 'ok', requests), ctx);
}

/** A MedicationRequest key's active orders, with the drug behind each medicationReference looked up. */
async function withOrders(
  requirement: DataRequirement,
  resources: readonly FhirObject[],
  gaps: DataGap[],
  record: FetchRecord,
  ctx: Context,
): Promise<KeyOutcome> {
  if (requirement.resourceType !== 'MedicationRequest') return { requirement, resources, informative: true, active: [], gaps, record };
  ctx.medications.remember(resources);
  const { requests, gaps: malformed } = readActiveOrders(requirement, resources, ctx.patientId);
  const owner = { key: requirement.key, label: requirement.label, resourceType: requirement.resourceType };
  const active = await Promise.all(requests.map(async (r) => ({ request: r, lookup: await ctx.medications.lookup(r, requirement.key), owner })));
  return { requirement, resources, informative: true, active, gaps: [...gaps, ...malformed], record };
}

/**
 * The rest of a search: follows `Bundle.link[next]` for `paging: 'all'` keys up to the page and
 * resource caps, and says so (a `truncated` gap) when results were left unread. A `latest` key keeps
 * the newest `_count` its template asked for (latest.ts), however many the EHR sent.
 */
async function collectPages(
  first: Extract<Payload, { kind: 'data' }>,
  requirement: DataRequirement,
  ctx: Context,
): Promise<{ resources: FhirObject[]; gaps: DataGap[]; requests: number }> {
  const { maxPages, maxResources } = ctx.options;
  const count = latestCount(requirement);
  const resources = [...(count === undefined ? first.resources : keepNewest(first.resources, count))];
  const sent = count === undefined ? 0 : first.resources.filter((r) => r.resourceType === requirement.resourceType).length;
  // The newest were kept, but a server that ignores the page size may also have cut its answer short.
  const ignoredCount = count !== undefined && sent > count ? `the EHR ignored the page size (${count} asked, ${sent} sent): the newest ${count} were used, the newest value may be missing` : undefined;
  const matching = () => resources.filter((r) => r.resourceType === requirement.resourceType).length;
  let next = requirement.paging === 'all' ? first.next : undefined;
  let pages = 1;
  let requests = 0;
  let truncated: string | undefined;
  while (next !== undefined && truncated === undefined) {
    if (pages >= maxPages) truncated = `more than ${maxPages} pages of results`;
    else if (matching() >= maxResources) truncated = `more than ${maxResources} results`;
    else if (!ctx.client) truncated = `more pages exist, but ${ctx.noServerWhy}`;
    else {
      const page = await ctx.client.get(next);
      requests += page.requests;
      const payload = page.ok ? classifyPayload(page.body, requirement) : undefined;
      if (!page.ok) truncated = `a further page could not be read: ${page.failure.why}`;
      else if (payload?.kind !== 'data') truncated = 'a further page could not be read: the answer was unusable';
      else {
        resources.push(...payload.resources);
        pages++;
        next = payload.next;
      }
    }
  }
  if (resources.length > maxResources && matching() > maxResources) {
    let kept = 0;
    const capped = resources.filter((r) => r.resourceType !== requirement.resourceType || ++kept <= maxResources);
    resources.splice(0, resources.length, ...capped);
    truncated ??= `more than ${maxResources} results`;
  }
  const gaps = truncated === undefined ? [] : [dataGap(requirement, 'truncated', `incomplete, ${truncated}`)];
  if (ignoredCount !== undefined) gaps.push(dataGap(requirement, 'truncated', ignoredCount));
  return { resources, gaps, requests };
}


