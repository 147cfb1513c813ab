import type { DataGap } from '../shared/patient-data.js';
import { durationMs, noParams, type NoParams } from './params.js';
import { PATIENT_REQUIREMENT } from './requirements.js';
import type { FactContext, FactDefinition, FailedCheck } from './types.js';
import { DATA_GAP_REASONS, RESOURCE_TYPES } from '../shared/patient-data.js';
import { boolean, date, list, number, object, oneOf, text } from './value-shape.js';

export interface PatientValue {
  id: string;
  gender: string | null;
  ageYears: number | null;
  /** At least `settings.adultAge` old; null when the birth date is unknown. */
  adult: boolean | null;
  /** The record marks the patient deceased (`deceasedBoolean` true or a `deceasedDateTime`). */
  deceased: boolean;
  /** `deceasedDateTime`, when given. */
  deceasedDate: string | null;
  display: string;
}

export const patient = {
  params: noParams,
  refs: () => [],
  requirements: () => [PATIENT_REQUIREMENT],
  settings: ['adultAge'],
  value: object({
    id: text,
    gender: oneOf('FHIR administrative gender', ['male', 'female', 'other', 'unknown']),
    ageYears: number,
    adult: boolean,
    deceased: boolean,
    deceasedDate: date,
    display: text,
  }),
  compute: (_p, ctx): PatientValue => patientValue(ctx),
} satisfies FactDefinition<NoParams>;

/** The patient fact's value; the evaluator reads it too, to decide which population's rules run. */
export function patientValue(ctx: Pick<FactContext, 'data' | 'now' | 'knowledge'>): PatientValue {
  const resource = ctx.data.patient;
  const gender = typeof resource?.gender === 'string' ? resource.gender : null;
  const ageYears = typeof resource?.birthDate === 'string' ? age(resource.birthDate, ctx.now) : null;
  const adultYears = (durationMs(ctx.knowledge.settings.adultAge) ?? 0) / YEAR_MS;
  const deceasedDate = typeof resource?.deceasedDateTime === 'string' ? resource.deceasedDateTime : null;
  const deceased = resource?.deceasedBoolean === true || deceasedDate !== null;
  const death = deceased ? `deceased${deceasedDate === null ? '' : ` ${deceasedDate.slice(0, 10)}`}` : null;
  const display = [gender, ageYears === null ? null : `${ageYears} y`, death].filter((s) => s !== null).join(', ');
  return {
    id: ctx.data.patientId,
    gender,
    ageYears,
    adult: ageYears === null ? null : ageYears >= adultYears,
    deceased,
    deceasedDate,
    display: display || 'patient',
  };
}

const YEAR_MS = durationMs('1y')!;

/** Whole years from a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD); partial dates count from their first day. */
function age(birthDate: string, now: Date): number | null {
  const match = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(birthDate);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2] ?? 1), Number(match[3] ?? 1)];
  let years = now.getUTCFullYear() - year;
  const beforeBirthday = now.getUTCMonth() + 1 < month || (now.getUTCMonth() + 1 === month && now.getUTCDate() < day);
  if (beforeBirthday) years -= 1;
  return years >= 0 ? years : null;
}

export interface DataGapValue {
  key: string;
  resourceType: DataGap['resourceType'];
  reason: DataGap['reason'];
  display: string;
}

export const dataGaps = {
  params: noParams,
  refs: () => [],
  requirements: () => [],
  value: list(
    object({
      key: text,
      resourceType: oneOf('FHIR resource types read', [...RESOURCE_TYPES, 'Medication']),
      reason: oneOf('data gap reasons', DATA_GAP_REASONS),
      display: text,
    }),
  ),
  compute: (_p, ctx): DataGapValue[] =>
    ctx.data.gaps.map((gap) => ({ key: gap.key, resourceType: gap.resourceType, reason: gap.reason, display: gap.message })),
} satisfies FactDefinition<NoParams>;

/** Checks that could not run on this call because a rule or a fact it reads threw (rule isolation): their titles. */
export const failedChecks = {
  params: noParams,
  refs: () => [],
  requirements: () => [],
  value: list(object({ id: text, title: text, display: text })),
  compute: (_p, ctx): (FailedCheck & { display: string })[] => (ctx.failedChecks ?? []).map((c) => ({ ...c, display: c.title })),
} satisfies FactDefinition<NoParams>;
