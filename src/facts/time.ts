/** Milliseconds since the epoch for a FHIR date or dateTime string; null for anything else. */
export function timeOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}
