/**
 * A copy of a JSON value with every `reference` to a transaction bundle entry's `fullUrl` (Synthea uses
 * `urn:uuid:…`) rewritten as `Type/id`, as a FHIR server does when it stores the transaction.
 */
export function resolveReferences(value: unknown, byFullUrl: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, byFullUrl));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'reference' && typeof v === 'string' ? (byFullUrl.get(v) ?? v) : resolveReferences(v, byFullUrl)]),
    );
  }
  return value;
}
