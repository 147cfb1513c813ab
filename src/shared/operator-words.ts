/**
 * How a condition's operator reads to an informaticist: one wording for the explanation (CLI, console
 * playground), the generated rule list and the console's rule text. No imports, so the console bundles it too.
 */
const WORDS: Readonly<Record<string, string>> = {
  equal: 'is',
  notEqual: 'is not',
  lessThan: '<',
  lessThanInclusive: '≤',
  greaterThan: '>',
  greaterThanInclusive: '≥',
  in: 'is one of',
  notIn: 'is none of',
  contains: 'contains',
  doesNotContain: 'does not contain',
  inValueSet: 'is in value set',
  olderThan: 'is older than',
};

/** `exists` reads by its value; decorators (`someFact:…`) stay in front of the operator's words. */
export function operatorWords(operator: string, value?: unknown): string {
  if (operator === 'exists') return value === false ? 'is empty or absent' : 'is present';
  const parts = operator.split(':');
  const base = parts.pop()!;
  const decorators = parts.length > 0 ? `${parts.join(' ')} ` : '';
  return `${decorators}${WORDS[base] ?? base}`;
}
