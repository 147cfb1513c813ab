import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartSchema } from '../src/rules/scenarios/scenario-schema.js';

/**
 * docs/test-patients.md: what each synthetic chart in rules/tests/patients/ already contains (and when), so a
 * scenario author knows what a rule will see before adding anything. Written by `npm run rules:build`.
 */

type Resource = Record<string, unknown> & { resourceType: string };

/** The first coding's display (or code) of a CodeableConcept-like value. */
function concept(value: unknown): string {
  const c = value as { text?: string; coding?: { code?: string; display?: string }[] } | undefined;
  const coding = c?.coding?.[0];
  return coding?.display ?? c?.text ?? coding?.code ?? '';
}

function when(r: Resource): string {
  const period = r.effectivePeriod as { start?: string } | undefined;
  const date = r.effectiveDateTime ?? period?.start ?? r.onsetDateTime ?? r.authoredOn ?? r.recordedDate ?? r.birthDate;
  return typeof date === 'string' ? ` (${date})` : '';
}

function line(r: Resource): string {
  const q = r.valueQuantity as { value?: number; unit?: string } | undefined;
  const value = q ? ` = ${q.value ?? ''} ${q.unit ?? ''}`.trimEnd() : typeof r.valueInteger === 'number' ? ` = ${r.valueInteger}` : '';
  if (r.resourceType === 'Patient') return `Patient: ${String(r.gender ?? 'gender not recorded')}, born ${String(r.birthDate ?? 'unknown')}`;
  const what = concept(r.code ?? r.medicationCodeableConcept ?? r.type);
  const status = typeof r.status === 'string' ? `, ${r.status}` : '';
  return `${r.resourceType}: ${what || '(no code)'}${value}${status}${when(r)}`;
}

export function renderTestPatients(rulesDir: string): string {
  const dir = join(rulesDir, 'tests', 'patients');
  const lines = [
    '# Synthetic test patients',
    '',
    '<!-- Generated from rules/tests/patients/ by `npm run rules:build`. Do not edit. -->',
    '',
    'What each chart in `rules/tests/patients/` already contains, with dates, before a scenario adds anything. Scenarios',
    'run at the file\'s `now` (default 2026-11-21T12:00:00Z): a value dated before `now` minus a rule\'s maximum age counts',
    'as missing.',
    '',
  ];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const chart = chartSchema.parse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    lines.push(`## \`${file.replace(/\.json$/, '')}\``, '', chart.description, '');
    for (const r of chart.resources as Resource[]) lines.push(`- ${line(r)}`);
    for (const r of (chart.draftOrders ?? []) as Resource[]) lines.push(`- draft order: ${line(r)}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
