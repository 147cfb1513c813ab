import { printParseErrorCode, visit } from 'jsonc-parser';

/** One slip in a JSON file, at a 1-based line and column, in plain English. */
export interface JsonSlip {
  line: number;
  column: number;
  message: string;
}

export type JsonText = { ok: true; value: unknown } | { ok: false; slips: JsonSlip[] };

/** More slips than this in one file are not worth listing one by one. */
const MAX_SLIPS = 20;

/**
 * Parses a JSON file an author wrote. The value comes from JSON.parse (exact JSON semantics); when it
 * fails, jsonc-parser (the VS Code JSON scanner) locates every slip: each one is named once, in plain
 * words, then repaired in a same-length copy of the text so the next one can be found without the first
 * one's knock-on errors, and so every line and column still points into the original file.
 */
export function parseJsonText(text: string): JsonText {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const slips: JsonSlip[] = [];
    let repaired = text;
    while (slips.length < MAX_SLIPS) {
      const first = firstError(repaired);
      if (!first) break;
      const { slip, repair } = describe(repaired, first);
      slips.push(slip);
      if (repair === undefined) break;
      repaired = repair;
    }
    if (slips.length === 0) {
      // Something the scanner accepts and JSON.parse does not: report JSON.parse's own words.
      const message = (err as Error).message;
      const at = message.indexOf(' in JSON at position ');
      slips.push({ line: 1, column: 1, message: at === -1 ? message : message.slice(0, at) });
    }
    return { ok: false, slips };
  }
}

interface ScanError {
  /** The scanner's error name, e.g. `CommaExpected` (its enum is a const enum, not importable here). */
  code: string;
  offset: number;
  line: number;
  column: number;
}

function firstError(text: string): ScanError | undefined {
  let found: ScanError | undefined;
  visit(
    text,
    {
      onError: (code, offset, _length, line, column) => {
        found ??= { code: printParseErrorCode(code), offset, line: line + 1, column: column + 1 };
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  return found;
}

/** Replaces text[from, to) with characters of the same total length (newlines kept, so lines stay put). */
function patch(text: string, from: number, to: number, replacement?: string): string {
  const blanked = replacement ?? text.slice(from, to).replace(/[^\n]/g, ' ');
  return text.slice(0, from) + blanked + text.slice(to);
}

function at(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/** Plain words for one scanner error, and the same-length repair that lets the scan go on (if any). */
function describe(text: string, e: ScanError): { slip: JsonSlip; repair?: string } {
  const here = { line: e.line, column: e.column };
  const slip = (message: string, where = here) => ({ ...where, message });
  const char = text[e.offset];
  const prevIndex = text.slice(0, e.offset).search(/\S\s*$/);

  if (e.offset >= text.trimEnd().length && e.code !== 'EndOfFileExpected') {
    if (text.trim() === '') return { slip: slip('the file is empty') };
    return { slip: slip('the file ends too early (cut off?): a string, "]" or "}" is not closed', at(text, text.trimEnd().length)) };
  }
  if (e.code === 'UnexpectedEndOfString') {
    return { slip: slip('a string is not closed: the file ends inside it') };
  }
  if ((e.code === 'PropertyNameExpected' || e.code === 'ValueExpected') && (char === '}' || char === ']') && text[prevIndex] === ',') {
    return { slip: slip(`trailing comma: JSON allows no "," after the last item before "${char}"`, at(text, prevIndex)), repair: patch(text, prevIndex, prevIndex + 1) };
  }
  if (char === "'") {
    const close = text.indexOf("'", e.offset + 1);
    const newline = text.indexOf('\n', e.offset);
    const message = 'single quotes: JSON strings and keys need double quotes (")';
    if (close === -1 || (newline !== -1 && close > newline)) return { slip: slip(message) };
    return { slip: slip(message), repair: patch(patch(text, e.offset, e.offset + 1, '"'), close, close + 1, '"') };
  }
  if (e.code === 'CommaExpected') {
    const message = 'missing comma: put a "," between this item and the one before it';
    // Turn the blank before the item into the comma (same length); with no blank there, stop here.
    return /\s/.test(text[e.offset - 1] ?? '') ? { slip: slip(message), repair: patch(text, e.offset - 1, e.offset, ',') } : { slip: slip(message) };
  }
  if (e.code === 'InvalidCommentToken' || (char === '/' && (text[e.offset + 1] === '/' || text[e.offset + 1] === '*'))) {
    const end = text[e.offset + 1] === '*' ? text.indexOf('*/', e.offset + 2) + 2 : text.indexOf('\n', e.offset);
    const message = 'comments are not allowed in JSON';
    return end <= e.offset ? { slip: slip(message) } : { slip: slip(message), repair: patch(text, e.offset, end) };
  }
  if (e.code === 'EndOfFileExpected') {
    return { slip: slip('more text after the end of the JSON value (an extra "}" or "]"?)') };
  }
  if (e.code === 'ColonExpected') return { slip: slip('missing ":" between a key and its value') };
  if (e.code === 'InvalidNumberFormat') return { slip: slip('not a valid number (JSON numbers have no leading "+", leading zeros or trailing ".")') };
  if (e.code === 'InvalidCharacter' || e.code === 'InvalidEscapeCharacter' || e.code === 'InvalidUnicode') {
    return { slip: slip('invalid character in a string (a line break or tab must be written \\n or \\t; a backslash as \\\\)') };
  }
  if (e.code === 'InvalidSymbol' || e.code === 'PropertyNameExpected') {
    const word = /^[\w$.+-]+/.exec(text.slice(e.offset))?.[0] ?? char ?? '';
    return { slip: slip(`unexpected ${JSON.stringify(word)}: keys and strings need double quotes; values are numbers, "strings", true, false, null, [arrays] or {objects}`) };
  }
  if (e.code === 'CloseBraceExpected') return { slip: slip('expected "," or "}" here') };
  if (e.code === 'CloseBracketExpected') return { slip: slip('expected "," or "]" here') };
  return { slip: slip('expected a value here') };
}
