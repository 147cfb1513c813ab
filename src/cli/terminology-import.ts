import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NAME, trimBoth } from '../shared/syntax.js';
import { zodErrors, formatLoadError } from '../rules/load-error.js';
import { valueSetFileSchema, type ValueSetFile, type ValueSetInclude } from '../rules/value-set-file.js';

/**
 * `inotrope-cds terminology import`: turns a published, expanded FHIR ValueSet (VSAC's `$expand`
 * output, or a copy from an eCQM content repository) into our value-set file. The codes come from
 * `expansion.contains` (a VSAC `compose` often only names child sets), grouped by code system into
 * `compose.include`; `url`, `version`, identifiers and the expansion's timestamp are kept so the file
 * says exactly which published set it is. Updating keeps what we curate on top (title, units, ...).
 */

/** What we add to a published set and keep when it is re-imported. */
const CURATED = ['title', 'description', 'molarMass', 'charge', 'units', 'sameTime', 'matchText', 'disjointWith'] as const;

export interface ImportResult {
  name: string;
  content: ValueSetFile;
  /** `+3 codes, -1 code` against the file it replaces, or `new`. */
  change: string;
}

export class ImportError extends Error {}

interface Contains {
  system?: unknown;
  version?: unknown;
  code?: unknown;
  display?: unknown;
  abstract?: unknown;
  inactive?: unknown;
  contains?: unknown;
}

/** `HeartFailure` → `heart-failure`; `Atrial Fibrillation or Flutter` → `atrial-fibrillation-or-flutter`. */
export function kebabName(text: string): string {
  const kebab = text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])(?=[A-Z][a-z])/g, '$1-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
  return trimBoth(kebab, '-');
}

/** The codes of an expansion, nested `contains` flattened, abstract and inactive entries left out. */
function flatten(list: unknown, out: Contains[] = []): Contains[] {
  if (!Array.isArray(list)) return out;
  for (const item of list as Contains[]) {
    if (typeof item !== 'object' || item === null) continue;
    if (item.abstract !== true && item.inactive !== true && typeof item.system === 'string' && typeof item.code === 'string') out.push(item);
    flatten(item.contains, out);
  }
  return out;
}

export function importValueSet(resource: unknown, options: { name?: string | undefined; existing?: ValueSetFile | undefined; file: string }): ImportResult {
  const vs = resource as Record<string, unknown> | null;
  if (typeof vs !== 'object' || vs === null || vs.resourceType !== 'ValueSet') throw new ImportError(`${options.file} is not a FHIR ValueSet resource`);
  const expansion = vs.expansion as { contains?: unknown; timestamp?: unknown; identifier?: unknown } | undefined;
  const contains = flatten(expansion?.contains);
  if (contains.length === 0) {
    throw new ImportError(`${options.file} has no expanded codes (expansion.contains): export the expansion ($expand) from VSAC, not the definition`);
  }
  const title = typeof vs.title === 'string' ? vs.title : typeof vs.name === 'string' ? vs.name : undefined;
  const name = options.name ?? kebabName(typeof vs.name === 'string' ? vs.name : (title ?? ''));
  if (!NAME.test(name)) throw new ImportError(`${options.file}: "${name}" is not a kebab-case set name; give one with --name`);
  const url = typeof vs.url === 'string' ? vs.url : undefined;
  const existing = options.existing;
  if (existing && existing.url !== url) {
    throw new ImportError(
      `value-sets/${name}.json holds another set (${existing.url ?? 'a curated set without url'}), not ${url ?? 'this one'}: choose another name with --name`,
    );
  }

  type Group = { version?: string; concept: Map<string, string | undefined> };
  const bySystem = new Map<string, Group>();
  for (const c of contains) {
    const system = c.system as string;
    const group: Group = bySystem.get(system) ?? { concept: new Map() };
    if (group.version === undefined && typeof c.version === 'string') group.version = c.version;
    if (!group.concept.has(c.code as string)) group.concept.set(c.code as string, typeof c.display === 'string' ? c.display : undefined);
    bySystem.set(system, group);
  }
  const include: ValueSetInclude[] = [...bySystem].map(([system, group]) => ({
    system,
    ...(group.version !== undefined && { version: group.version }),
    concept: [...group.concept].map(([code, display]) => ({ code, ...(display !== undefined && display !== '' && { display }) })),
  }));

  const oid = Array.isArray(vs.identifier) ? (vs.identifier as { value?: unknown }[]).find((i) => typeof i?.value === 'string')?.value : undefined;
  const timestamp = typeof expansion?.timestamp === 'string' ? expansion.timestamp : undefined;
  const total = include.reduce((n, inc) => n + (inc.concept?.length ?? 0), 0);
  const described = [
    `Published value set ${title ?? name}`,
    typeof oid === 'string' ? `OID ${oid}` : url,
    typeof vs.version === 'string' ? `version ${vs.version}` : undefined,
    timestamp ? `expansion of ${timestamp}` : undefined,
  ].filter(Boolean);
  const draft: Record<string, unknown> = {
    $schema: '../schema/value-set.schema.json',
    resourceType: 'ValueSet',
    ...(url !== undefined && { url }),
    ...(Array.isArray(vs.identifier) && { identifier: vs.identifier }),
    ...(typeof vs.version === 'string' && { version: vs.version }),
    ...(typeof vs.name === 'string' && { name: vs.name }),
    title: title ?? name,
    ...(typeof vs.status === 'string' && { status: vs.status }),
    ...(typeof vs.publisher === 'string' && { publisher: vs.publisher }),
    source: `${described.join(', ')}; imported with \`inotrope-cds terminology import\`.`,
    compose: { include },
    ...(timestamp !== undefined && {
      expansion: { ...(typeof expansion?.identifier === 'string' && { identifier: expansion.identifier }), timestamp, total },
    }),
  };
  for (const key of CURATED) if (existing?.[key] !== undefined) draft[key] = existing[key];

  const parsed = valueSetFileSchema.safeParse(draft);
  if (!parsed.success) {
    throw new ImportError(`${options.file} cannot be imported:\n${zodErrors(`value-sets/${name}.json`, parsed.error).map((e) => `  ${formatLoadError(e)}`).join('\n')}`);
  }
  return { name, content: parsed.data, change: describeChange(existing, parsed.data) };
}

function keys(content: ValueSetFile): Set<string> {
  return new Set((content.compose?.include ?? []).flatMap((inc) => (inc.concept ?? []).map((c) => `${inc.system}|${c.code}`)));
}

function describeChange(before: ValueSetFile | undefined, after: ValueSetFile): string {
  const now = keys(after);
  if (!before) return `new, ${now.size} codes`;
  const then = keys(before);
  const added = [...now].filter((k) => !then.has(k)).length;
  const removed = [...then].filter((k) => !now.has(k)).length;
  const codes = (n: number) => `${n} code${n === 1 ? '' : 's'}`;
  const version = before.version === after.version ? `version ${after.version ?? '(none)'}` : `version ${before.version ?? '(none)'} → ${after.version ?? '(none)'}`;
  return `${version}, +${codes(added)}, -${codes(removed)}, ${now.size} codes`;
}

/** Reads each ValueSet file and writes `<rulesDir>/value-sets/<name>.json`; returns one line per file. */
export async function importFiles(files: readonly string[], rulesDir: string, name: string | undefined): Promise<string[]> {
  if (name !== undefined && files.length !== 1) throw new ImportError('--name names one set: import one file with it');
  const dir = path.join(rulesDir, 'value-sets');
  await mkdir(dir, { recursive: true });
  const lines: string[] = [];
  const written = new Set<string>();
  for (const file of files) {
    let resource: unknown;
    try {
      resource = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new ImportError(`${file} cannot be read as JSON: ${(err as Error).message}`);
    }
    const guess = name ?? kebabName(String((resource as { name?: unknown; title?: unknown } | null)?.name ?? (resource as { title?: unknown } | null)?.title ?? ''));
    const target = path.join(dir, `${guess}.json`);
    let existing: ValueSetFile | undefined;
    try {
      const parsed = valueSetFileSchema.safeParse(JSON.parse(await readFile(target, 'utf8')));
      if (!parsed.success) throw new ImportError(`${target} exists but is not a valid value-set file: fix it (npx inotrope-cds check) or choose --name`);
      existing = parsed.data;
    } catch (err) {
      if (err instanceof ImportError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ImportError(`${target} exists but cannot be read as JSON`);
    }
    const result = importValueSet(resource, { name, existing, file });
    if (written.has(result.name)) throw new ImportError(`two files import as "${result.name}": import them one at a time with --name`);
    written.add(result.name);
    // Written whole, then renamed: a running service that watches rules/ never reads half a file.
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(result.content, null, 2)}\n`);
    await rename(tmp, target);
    lines.push(`${path.join(dir, `${result.name}.json`)}: ${result.change}`);
  }
  return lines;
}
