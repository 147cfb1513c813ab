/** Display helpers shared by the pages. */

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`;
}

export function count(n: number | undefined): string {
  return n === undefined ? '—' : n.toLocaleString('en-US');
}

export function dateTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

export function day(iso: string): string {
  return iso.slice(0, 10);
}

/** Start of today (UTC) minus `days`, as an RFC 3339 date. */
export function daysAgo(days: number, now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

/** Tomorrow (UTC), so "to" (exclusive) includes today. */
export function tomorrow(now = new Date()): string {
  return daysAgo(-1, now);
}

/** An override reason key `system|code` as the reason's display, when the ruleset offers it. */
export function reasonLabel(key: string, reasons: readonly { system: string; code: string; display: string }[]): string {
  if (key === 'none') return 'No reason given';
  if (key === 'other') return 'Other (a reason the card did not offer)';
  const [system, code] = key.includes('|') ? [key.slice(0, key.lastIndexOf('|')), key.slice(key.lastIndexOf('|') + 1)] : ['', key];
  return reasons.find((r) => r.code === code && (!system || r.system === system))?.display ?? code ?? key;
}

/** Saves text as a file the browser downloads (no server round trip, no link carrying a credential). */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
