import { formatNumber, formatQuantity } from '../facts/units.js';
import { joinLines } from '../shared/syntax.js';

/**
 * Card text templates: `{{name}}` or `{{name.path.to.field}}`. Parsed once when the ruleset loads
 * (so a placeholder that names nothing fails there) and rendered per card from the facts' values.
 */

export type TemplatePart = string | { readonly ref: readonly string[] };
export type ParsedTemplate = readonly TemplatePart[];

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export type ParseResult = { ok: true; template: ParsedTemplate } | { ok: false; message: string };

export function parseTemplate(source: string): ParseResult {
  const parts: TemplatePart[] = [];
  let last = 0;
  // indexOf, not /{{(.*?)}}/g: the regex rescans to the end from every "{{" of an unclosed run (quadratic)
  for (let open = source.indexOf('{{'); open !== -1; open = source.indexOf('{{', last)) {
    const literal = source.slice(last, open);
    const close = source.indexOf('}}', open + 2);
    if (literal.includes('}}') || close === -1) break;
    if (literal) parts.push(literal);
    const raw = source.slice(open + 2, close);
    const inner = raw.trim();
    const segments = inner.split('.');
    if (!inner || !segments.every((s) => SEGMENT.test(s))) {
      return { ok: false, message: `"{{${raw}}}" is not a placeholder: write {{name}} or {{name.field}}` };
    }
    parts.push({ ref: segments });
    last = close + 2;
  }
  const rest = source.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) {
    return { ok: false, message: 'has an unmatched "{{" or "}}"' };
  }
  if (rest) parts.push(rest);
  return { ok: true, template: parts };
}

export function placeholders(template: ParsedTemplate): (readonly string[])[] {
  return template.flatMap((p) => (typeof p === 'string' ? [] : [p.ref]));
}

/** Values a template may name: rule-local facts, fact ids, `threshold`, `table` (each an object). */
export type TemplateValues = ReadonlyMap<string, unknown>;

export function lookup(values: TemplateValues, ref: readonly string[]): unknown {
  let value: unknown = values.get(ref[0]!);
  for (const segment of ref.slice(1)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

export interface RenderOptions {
  /** Escape values for markdown (card detail). */
  markdown?: boolean;
}

/**
 * What a card says for a value that is null or missing: the wording its fact gives for it — an object's
 * `absent` record names its null fields' wording (`order.absent.loadingDose` = "none ordered"), and a fact
 * whose whole value is null may stand in the values as an {@link Absent} ("none within 72 h; last …") —,
 * else "unknown".
 */
function textFor(values: TemplateValues, ref: readonly string[]): string {
  let parent: unknown;
  let value: unknown = values.get(ref[0]!);
  for (const segment of ref.slice(1)) {
    if (value instanceof Absent) return value.text;
    if (value === null || typeof value !== 'object') return formatValue(undefined);
    parent = value;
    value = (value as Record<string, unknown>)[segment];
  }
  if (value instanceof Absent) return value.text;
  if (value === null || value === undefined) {
    const absent = (parent as { absent?: Record<string, unknown> } | undefined)?.absent?.[ref[ref.length - 1]!];
    if (typeof absent === 'string') return absent;
  }
  return formatValue(value);
}

/** A fact's null value as cards word it (template values only: conditions see the null). */
export class Absent {
  constructor(readonly text: string) {}
}

export function render(template: ParsedTemplate, values: TemplateValues, options: RenderOptions = {}): string {
  return template
    .map((part) => {
      if (typeof part === 'string') return part;
      const text = textFor(values, part.ref);
      return options.markdown ? escapeMarkdown(text) : text;
    })
    .join('');
}

const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}/;

/** How a value reads on a card: numbers as clinicians read them, dates as YYYY-MM-DD, objects by their display. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'unknown';
  if (typeof value === 'number') return Number.isFinite(value) ? formatNumber(value) : 'unknown';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return joinLines(ISO_DATE_TIME.exec(value)?.[1] ?? value);
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(formatValue).join(', ');
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.display === 'string') return formatValue(o.display);
    if (typeof o.value === 'number' && typeof o.unit === 'string') return formatQuantity(o.value, o.unit);
  }
  return 'unknown';
}

// Characters that could start emphasis, code, links, HTML or tables inside a line of markdown.
const MARKDOWN_SPECIAL = /[\\`*_[\]<>|~#]/g;

export function escapeMarkdown(text: string): string {
  return text.replace(MARKDOWN_SPECIAL, '\\$&');
}

/** A summary is under 140 characters: cut at 139 with an ellipsis. */
export function cutSummary(text: string, max = 139): string {
  const flat = joinLines(text).trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}
