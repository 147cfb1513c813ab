import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Hook } from '../src/shared/hooks.js';
import { formatLoadError } from '../src/rules/load-error.js';
import { readRuleset } from '../src/rules/load.js';
import { buildRequest } from '../src/scenarios/build-request.js';
import { hookModule } from '../src/cds/hooks/registry.js';
import { hookRequirements } from '../src/cds/handle-hook.js';
import { DEFAULT_NOW } from '../src/scenarios/run-scenarios.js';
import { chartSchema } from '../src/rules/scenarios/scenario-schema.js';
import { shiftDates } from '../src/scenarios/time-shift.js';

/**
 * Writes examples/*.json: complete CDS Hooks requests built from the scenario charts in
 * rules/tests/patients/, with every prefetch key the service advertises answered from the chart by the
 * scenario runner's own code, so the examples cannot drift from the patients the scenarios test.
 * Usage: npm run examples:build (`-- --check` only checks that examples/ is current).
 * The committed examples are built at a fixed time (the scenarios' default "now"), so that rebuilding gives the same
 * bytes; sent to the service on a later day their labs would read as old. `-- --now` writes the same requests built at
 * the current time (or `--now <ISO date-time>`) to examples/now/ (not committed), which the README's curl lines send.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RULES_DIR = join(ROOT, 'rules');
export const OUT_DIR = join(ROOT, 'examples');
/** Where `--now` writes: requests built at the current time (git-ignored). */
export const NOW_DIR = join(OUT_DIR, 'now');
const USER = 'Practitioner/prac-hf-attending';

interface ExampleSpec {
  file: string;
  patient: string;
  hook: Hook;
  /** Fixed so that rebuilding gives the same bytes. */
  hookInstance: string;
  selections?: string[];
  /** Send no prefetch: the service reads the chart from this FHIR server with the token. */
  fhirServer?: string;
}

const EXAMPLES: readonly ExampleSpec[] = [
  {
    file: 'order-select-milrinone.json',
    patient: 'stage-d-ckd-furosemide',
    hook: 'order-select',
    hookInstance: '3f1c2a9e-6b7d-4c1e-9a52-0d6f1e8b7c01',
    selections: ['MedicationRequest/stage-d-ckd-furosemide-milrinone-draft'],
  },
  { file: 'order-sign-milrinone.json', patient: 'stage-d-ckd-furosemide', hook: 'order-sign', hookInstance: '3f1c2a9e-6b7d-4c1e-9a52-0d6f1e8b7c02' },
  { file: 'order-sign-dobutamine-hocm.json', patient: 'hocm-dobutamine', hook: 'order-sign', hookInstance: '3f1c2a9e-6b7d-4c1e-9a52-0d6f1e8b7c03' },
  {
    file: 'patient-view-active-milrinone.json',
    patient: 'active-milrinone-patient-view',
    hook: 'patient-view',
    hookInstance: '3f1c2a9e-6b7d-4c1e-9a52-0d6f1e8b7c04',
  },
  {
    file: 'encounter-discharge-home-milrinone.json',
    patient: 'discharge-home-milrinone',
    hook: 'encounter-discharge',
    hookInstance: '3f1c2a9e-6b7d-4c1e-9a52-0d6f1e8b7c06',
  },
  {
    file: 'order-sign-no-prefetch.json',
    patient: 'stage-d-ckd-furosemide',
    hook: 'order-sign',
    hookInstance: '3f1c2a9e-6b7d-4c1e-9a52-0d6f1e8b7c05',
    fhirServer: 'https://ehr.example.org/fhir',
  },
];

/** Every example file's text (dated as of `now`), built from the charts in `<rulesDir>/tests/patients/` and the ruleset's prefetch keys. */
export async function renderExamples(rulesDir: string = RULES_DIR, now: Date = new Date(DEFAULT_NOW)): Promise<Map<string, string>> {
  const loaded = await readRuleset(rulesDir);
  if (!loaded.ok) throw new Error(`the ruleset does not load:\n${loaded.errors.map(formatLoadError).join('\n')}`);
  const out = new Map<string, string>();
  for (const spec of EXAMPLES) {
    const file = join(rulesDir, 'tests', 'patients', `${spec.patient}.json`);
    const chart = chartSchema.parse(JSON.parse(await readFile(file, 'utf8')));
    const scenario = { name: spec.file, patient: spec.patient, hook: spec.hook, expect: {}, ...(spec.selections && { selections: spec.selections }) };
    const built = buildRequest(chart, scenario, hookRequirements(hookModule(spec.hook), loaded.ruleset), new Date(DEFAULT_NOW)) as {
      context: Record<string, unknown>;
      prefetch: Record<string, unknown>;
    };
    const request = {
      hook: spec.hook,
      hookInstance: spec.hookInstance,
      ...(spec.fhirServer && {
        fhirServer: spec.fhirServer,
        fhirAuthorization: {
          access_token: 'example-access-token-not-a-secret',
          token_type: 'Bearer',
          expires_in: 300,
          scope:
            'patient/Patient.read patient/MedicationRequest.read patient/Condition.read patient/AllergyIntolerance.read patient/ServiceRequest.read patient/Observation.read',
          subject: 'inotrope-cds',
          patient: chart.patientId,
        },
      }),
      context: { ...built.context, userId: USER },
      ...(!spec.fhirServer && { prefetch: built.prefetch }),
    };
    // Another day: every date in the request moved by the same amount, so intervals (lab ages, infusion hours) stay as documented.
    const shift = now.getTime() - Date.parse(DEFAULT_NOW);
    out.set(spec.file, `${JSON.stringify(shift === 0 ? request : shiftDates(request, shift), null, 2)}\n`);
  }
  return out;
}

/** Writes the examples, or with `--check` only reports whether the files on disk are current (exit 1 if not). */
async function main(args: readonly string[]): Promise<number> {
  const at = args.indexOf('--now');
  if (at >= 0) {
    const value = args[at + 1];
    const now = value && !value.startsWith('--') ? new Date(value) : new Date();
    if (Number.isNaN(now.getTime())) {
      console.error(`--now: not a date-time: ${value}`);
      return 2;
    }
    await mkdir(NOW_DIR, { recursive: true });
    for (const [file, text] of await renderExamples(RULES_DIR, now)) await writeFile(join(NOW_DIR, file), text);
    console.log(`examples/now/: the example requests as of ${now.toISOString()}`);
    return 0;
  }
  const examples = await renderExamples();
  if (args.includes('--check')) {
    const stale = [...examples].filter(([file, text]) => !existsSync(join(OUT_DIR, file)) || readFileSync(join(OUT_DIR, file), 'utf8') !== text);
    for (const [file] of stale) console.error(`examples/${file} is out of date: run npm run examples:build`);
    return stale.length === 0 ? 0 : 1;
  }
  await mkdir(OUT_DIR, { recursive: true });
  for (const [file, text] of examples) {
    await writeFile(join(OUT_DIR, file), text);
    console.log(`examples/${file}`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
