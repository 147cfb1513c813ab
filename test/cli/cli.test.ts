import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/commands.js';
import { jsonSchemaFiles } from '../../src/rules/json-schemas.js';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import { copyFixture } from '../rules/fixture-dir.js';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const REQUEST = 'test/fixtures/requests/order-sign-milrinone.json';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('inotrope-cds check', () => {
  it('reports a valid ruleset with its version and counts', async () => {
    const { code, out } = await cli('check', 'test/fixtures/rules');
    expect(code).toBe(0);
    expect(out).toMatch(/^test\/fixtures\/rules: OK — ruleset [0-9a-f]{12}: 6 active, 1 silent, 1 retired rules; 0 scenarios$/);
  });

  it('exits 1 listing every error with file and pointer', async () => {
    const fixture = await copyFixture();
    cleanups.push(fixture.remove);
    await fixture.edit('rules/rules.json', (j) => {
      j.rules[0].conditions.all[0].operator = 'lessThen';
      j.rules[1].card.summary = '{{nothing}}';
    });
    const { code, err } = await cli('check', fixture.dir);
    expect(code).toBe(1);
    expect(err.split('\n')).toEqual([
      `${fixture.dir}: 2 errors`,
      '  rules/rules.json#/rules/0/conditions/all/0/operator: unknown operator "lessThen" (did you mean "lessThan"?)',
      expect.stringMatching(/^ {2}rules\/rules\.json#\/rules\/1\/card\/summary: \{\{nothing\}\} names nothing/),
    ]);
  });
});

describe('inotrope-cds evaluate', () => {
  it('explains every rule, condition by condition, with --explain', async () => {
    const args = ['evaluate', 'examples/order-sign-milrinone.json', '--rules', 'rules', '--now', '2026-11-21T12:00:00Z', '--explain'];
    const { code, out } = await cli(...args);
    expect(code).toBe(0);
    expect(out).toMatch(/^FIRED +CI-HYPOKALEMIA \d+\.\d+\.\d+ — /m);
    expect(out).toContain('✓ potassium → value < 3.5 mmol/L (threshold potassium-low, newest value within 72h) — read 3.3 mmol/L (2026-11-21T06:00:00Z)');
    expect(out).toMatch(/^not fired +CI-HOCM \d+\.\d+\.\d+ — .* — for .*MedicationRequest\/stage-d-ckd-furosemide-milrinone-draft/m);
    // The condition that settled it is marked; the one after it was not needed.
    expect(out).toMatch(/✗ order → drug is dobutamine — read milrinone {2}← decides\n +– hocm is present — read none\n/);
    const json = await cli(...args, '--json');
    const parsed = JSON.parse(json.out) as { cards: unknown[]; explanation: { rule: string; outcome: string }[] };
    expect(parsed.explanation.filter((x) => x.outcome === 'fired')).toHaveLength(parsed.cards.length);
  });

  it('explains that the adult rules did not run for a child', async () => {
    const request = JSON.parse(await readFile('examples/order-sign-milrinone.json', 'utf8')) as { prefetch: { patient: { birthDate?: string } } };
    request.prefetch.patient.birthDate = '2014-05-02';
    const dir = await mkdtemp(path.join(tmpdir(), 'inotrope-cli-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'child.json');
    await writeFile(file, JSON.stringify(request));
    const { code, out } = await cli('evaluate', file, '--rules', 'rules', '--now', '2026-11-21T12:00:00Z', '--explain', '--json');
    expect(code).toBe(0);
    const { explanation } = JSON.parse(out) as { explanation: { rule: string; outcome: string; reason: string }[] };
    expect(explanation.find((x) => x.rule === 'ELIG-PEDIATRIC')?.outcome).toBe('fired');
    expect(explanation.find((x) => x.rule === 'CI-HYPOKALEMIA')).toMatchObject({
      outcome: 'not-applicable',
      reason: 'Written for living adults; the patient is younger than the adult age.',
    });
  });

  it('prints the cards as a clinician reads them', async () => {
    const { code, out } = await cli('evaluate', REQUEST, '--rules', 'test/fixtures/rules', '--now', '2026-11-21T12:00:00Z');
    expect(code).toBe(0);
    expect(out).toContain('4 cards for order-sign');
    expect(out).toContain('CRITICAL  milrinone at 0.9 mcg/kg/min is above 0.75 mcg/kg/min\n  Dosing · T-MIL-MAX 2.1.0 · MedicationRequest/m1');
    expect(out).toContain('    ★ Set the rate to 0.75 mcg/kg/min\n        update MedicationRequest/m1: Change the rate to 0.75 mcg/kg/min');
    expect(out).toContain('  Latest potassium 3.1 mmol/L on 2026-11-21; threshold 3.5 (72h). Code: http://loinc.org|2823-3');
    expect(out).toContain('Silent rules that fired (no card): T-SILENT');
  });

  it('prints the CDS Hooks response with --json', async () => {
    const { code, out } = await cli('evaluate', REQUEST, '--json', '--rules', 'test/fixtures/rules', '--now', '2026-11-21T12:00:00Z');
    expect(code).toBe(0);
    const response = hookResponseSchema.parse(JSON.parse(out));
    expect(response.cards.map((c) => c.indicator)).toEqual(['critical', 'warning', 'info', 'info']);
  });

  it('explains a usage mistake', async () => {
    expect(await cli('evaluate')).toMatchObject({ code: 2, err: expect.stringContaining('evaluate needs a request file.') });
    expect(await cli('evaluate', REQUEST, '--now', 'yesterday')).toMatchObject({ code: 2, err: expect.stringContaining('--now "yesterday" is not an ISO date-time.') });
    expect(await cli('frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining('Unknown command "frobnicate"') });
  });
});

describe('inotrope-cds test', () => {
  it('runs scenarios and prints a readable diff for a failing one', async () => {
    const fixture = await copyFixture();
    cleanups.push(fixture.remove);
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(path.join(fixture.dir, 'tests/patients'), { recursive: true });
    await writeFile(
      path.join(fixture.dir, 'tests/patients/milrinone-draft.json'),
      JSON.stringify({
        description: 'A draft milrinone order, nothing else on file',
        patientId: 'p1',
        resources: [{ resourceType: 'Patient', id: 'p1', gender: 'male', birthDate: '1950-01-01' }],
        draftOrders: [],
      }),
    );
    await writeFile(
      path.join(fixture.dir, 'tests/potassium.json'),
      JSON.stringify({
        $schema: '../schema/scenarios.schema.json',
        scenarios: [
          {
            name: 'K 3.1 fires T-HYPOKALEMIA',
            patient: 'milrinone-draft',
            hook: 'order-sign',
            add: { draftOrders: [{ code: '52769', id: 'm1', rate: { value: 0.5, unit: 'ug/kg/min' } }], observations: [{ code: '2823-3', value: 3.1, unit: 'mmol/L', ago: '2h' }] },
            expect: { fires: [{ rule: 'T-HYPOKALEMIA', indicator: 'warning' }, 'T-NO-HF'], absent: ['T-MIL-MAX'] },
          },
          {
            name: 'Wrong on purpose',
            patient: 'milrinone-draft',
            hook: 'order-sign',
            add: { draftOrders: [{ code: '52769', id: 'm1', rate: { value: 0.5, unit: 'ug/kg/min' } }] },
            expect: { fires: [{ rule: 'T-HYPOKALEMIA', indicator: 'critical' }], exactly: true },
          },
          {
            name: 'With no data sent and no FHIR server the service answers 412',
            patient: 'milrinone-draft',
            hook: 'order-sign',
            remove: ['medications', 'administrations', 'obs-body-weight', 'obs-potassium', 'patient', 'conditions'],
            add: { draftOrders: [{ code: '52769', id: 'm1' }] },
            expect: { status: 412 },
          },
        ],
      }),
    );
    const { code, out } = await cli('test', fixture.dir);
    expect(code).toBe(1);
    expect(out).toContain('✓ tests/potassium.json › K 3.1 fires T-HYPOKALEMIA');
    expect(out).toContain('✓ tests/potassium.json › With no data sent and no FHIR server the service answers 412');
    expect(out).toContain(
      [
        '✗ tests/potassium.json › Wrong on purpose',
        '  expected to fire: T-HYPOKALEMIA (critical) and nothing else',
        '  fired:',
        '    T-NO-HF              info     No heart failure documented for milrinone',
        '    T-EVERY-ORDER        info     Monitor telemetry during the infusion',
        '    T-SILENT             warning  (silent rule: no card)',
        '  problems:',
        '    - T-HYPOKALEMIA did not fire',
        '    - T-NO-HF fired but is not expected ("exactly": true)',
      ].join('\n'),
    );
    expect(out).toContain('2 passed, 1 failed (3 scenarios');
    // The failure explains itself: each rule it names, condition by condition, with what each fact resolved to.
    expect(out).toContain('  not fired      T-HYPOKALEMIA 1.0.0 — Low potassium');
    expect(out).toMatch(/✗ potassium → value < 3\.5 mmol\/L .* — read no value/);
    expect(out).toContain('✓ inotropes → drugs contains milrinone — read 1: milrinone');
    // Per rule: a scenario that fires it and one that keeps it quiet; an active rule that none fires is an error.
    expect(out).toContain('  ✓ T-NO-HF                fires in 1, quiet in 1');
    expect(out).toContain('error: T-MIL-MAX: no scenario makes this active rule fire');
    expect(out).toContain('warning: T-SILENT: no scenario makes this silent rule fire');
    expect(out).toContain('warning: T-HYPOKALEMIA: no scenario keeps it quiet');

    const one = await cli('test', fixture.dir, '--filter', 'K 3.1', '--cards');
    expect(one.code).toBe(0);
    expect(one.out).toContain('✓ tests/potassium.json › K 3.1 fires T-HYPOKALEMIA\n\n    WARNING   Potassium 3.1 mmol/L is below 3.5 mmol/L: correct before milrinone');
    expect(one.out).toContain('1 passed, 0 failed (1 scenarios');
    expect(one.out).toContain('(filtered: rule coverage is reported by an unfiltered run)');
  });
});

describe('inotrope-cds schema', () => {
  it('writes the JSON Schemas generated from the zod schemas', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'inotrope-schema-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    expect((await cli('schema', dir)).code).toBe(0);
    for (const [file, text] of jsonSchemaFiles()) expect(await readFile(path.join(dir, 'schema', file), 'utf8')).toBe(text);
  });
});
