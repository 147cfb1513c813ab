import { durationMs } from './params.js';
/** A duration as a clinician reads it: minutes below an hour, hours up to two days ("30 h"), then days and hours ("3 days 2 h"). */
export function formatHours(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))} min`;
  const whole = Math.round(hours);
  if (whole < 48) return `${whole} h`;
  const days = Math.floor(whole / 24);
  const rest = whole % 24;
  return rest === 0 ? `${days} days` : `${days} days ${rest} h`;
}

const DURATION_WORDS: Readonly<Record<string, [string, string]>> = { min: ['min', 'min'], h: ['h', 'h'], d: ['day', 'days'], w: ['week', 'weeks'], y: ['year', 'years'] };

/** A rule's window ("72h", "7d", "1y") in words: "72 h", "7 days", "1 year". */
export function formatWindow(duration: string): string {
  const match = /^(\d+)(min|h|d|w|y)$/.exec(duration);
  if (!match) return duration;
  const [one, many] = DURATION_WORDS[match[2]!]!;
  return `${match[1]} ${match[1] === '1' ? one : many}`;
}

const DATE_TIME_FORMATS = new Map<string, Intl.DateTimeFormat>();

/**
 * A moment as a card shows a vital sign's: date and time of day in the hospital's time zone with the zone's
 * abbreviation or offset, "2026-11-21 03:00 EST" (DISPLAY_TIME_ZONE; default UTC).
 */
export function formatDateTime(ms: number, timeZone = 'UTC'): string {
  let format = DATE_TIME_FORMATS.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    DATE_TIME_FORMATS.set(timeZone, format);
  }
  const part = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${part.timeZoneName}`;
}

/** A moment's calendar date in the hospital's time zone, "2026-11-21" (the date part of formatDateTime). */
export function formatDate(ms: number, timeZone = 'UTC'): string {
  return formatDateTime(ms, timeZone).slice(0, 10);
}

/** A recorded moment (a FHIR date or dateTime) no longer ago than `window` and not in the future; false without one. */
export function isRecent(value: unknown, window: string, now: Date): boolean {
  const at = timeOf(value);
  return at !== null && at >= now.getTime() - (durationMs(window) ?? 0) && at <= now.getTime();
}

/** Milliseconds since the epoch for a FHIR date or dateTime string; null for anything else. */
export function timeOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}
