import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { jsonPointer as pointer } from '../shared/syntax.js';
import type { LoadError } from '../shared/operator-api.js';

/** One mistake in a rules file: where it is (file, JSON pointer) and what is wrong, in plain English. */
export type { LoadError };

export function formatLoadError(e: LoadError): string {
  return `${e.file}${e.pointer ? `#${e.pointer}` : ''}: ${e.message}`;
}

/** The ruleset could not be loaded; `errors` lists every mistake found, not just the first. */
export class RulesetLoadError extends Error {
  override name = 'RulesetLoadError';
  constructor(readonly errors: readonly LoadError[]) {
    super(`The ruleset has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map((e) => `  ${formatLoadError(e)}`).join('\n')}`);
  }
}

export function zodErrors(file: string, error: z.ZodError, base: readonly PropertyKey[] = []): LoadError[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { file, pointer: pointer([...base, ...issue.path]), message: `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((k) => `"${k}"`).join(', ')} (misspelt, or not allowed here)` };
    }
    if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
      return { file, pointer: pointer([...base, ...issue.path]), message: `is required (${issue.message.replace('Invalid input: expected', 'expected').replace(', received undefined', '')})` };
    }
    return { file, pointer: pointer([...base, ...issue.path]), message: issue.message };
  });
}

/** ` (did you mean "lessThan"?)` when a known name is close to what was written, else `""`. */
export function didYouMean(written: string, known: Iterable<string>): string {
  const candidates = [...known];
  if (candidates.length === 0) return '';
  const best = closest(written, candidates);
  return distance(written, best) <= Math.max(2, Math.floor(written.length / 3)) ? ` (did you mean "${best}"?)` : '';
}
