/** A duration as a clinician reads it: hours up to two days ("30 h"), then days and hours ("3 days 2 h"). */
export function formatHours(hours: number): string {
  const whole = Math.round(hours);
  if (whole < 48) return `${whole} h`;
  const days = Math.floor(whole / 24);
  const rest = whole % 24;
  return rest === 0 ? `${days} days` : `${days} days ${rest} h`;
}

/** Milliseconds since the epoch for a FHIR date or dateTime string; null for anything else. */
export function timeOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}
