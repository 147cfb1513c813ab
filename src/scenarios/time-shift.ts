// FHIR date (YYYY, YYYY-MM, YYYY-MM-DD) or dateTime with a time and an offset.
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * A copy of a JSON value with every FHIR date and dateTime string moved by `ms` (dates by whole days),
 * so a chart recorded years ago reads as recent without changing any interval within it.
 */
export function shiftDates(value: unknown, ms: number): unknown {
  if (typeof value === 'string') {
    if (DATE_TIME.test(value)) return new Date(Date.parse(value) + ms).toISOString();
    if (DATE.test(value)) return new Date(Date.parse(`${value}T00:00:00Z`) + Math.round(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => shiftDates(v, ms));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shiftDates(v, ms)]));
  return value;
}

