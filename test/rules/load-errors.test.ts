import { afterEach, describe, expect, it } from 'vitest';
import { formatLoadError, RulesetLoadError } from '../../src/rules/load-error.js';
import { loadRuleset, readRuleset } from '../../src/rules/load.js';
import { copyFixture } from './fixture-dir.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- tests edit rule files as untyped JSON */

const RULES = 'rules/rules.json';
const SNOMED = 'http://snomed.info/sct';
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
/** A value-set file with these includes (and excludes). */
const vs = (include: unknown[], exclude?: unknown[]) => ({
  $schema: '../schema/value-set.schema.json',
  resourceType: 'ValueSet',
  title: 'AF',
  compose: { include, ...(exclude && { exclude }) },
});
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** Applies one mistake to a copy of the fixture ruleset and returns the formatted load errors. */
async function errorsAfter(mistake: (f: Awaited<ReturnType<typeof copyFixture>>) => Promise<void>): Promise<string[]> {
  const fixture = await copyFixture();
  cleanup = fixture.remove;
  await mistake(fixture);
  const result = await readRuleset(fixture.dir);
  if (result.ok) throw new Error('expected the ruleset to be refused');
  return result.errors.map(formatLoadError);
}

const rule = (i: number, change: (r: any) => void) => (f: Awaited<ReturnType<typeof copyFixture>>) => f.edit(RULES, (j) => change(j.rules[i]));

describe('load-time validation names the file, the JSON pointer and the mistake', () => {
  it.each([
    ['invalid JSON, with line and column', (f: any) => f.write(RULES, '{\n  "rules": [\n    { "id": "X" "version": "1.0.0" }\n  ]\n}'), `${RULES}: is not valid JSON at line 3, column 17`],
    ['a misspelt key', rule(0, (r) => { r.sumary = r.card.summary; }), `${RULES}#/rules/0: unknown key "sumary" (misspelt, or not allowed here)`],
    ['a missing field', rule(0, (r) => { delete r.version; }), `${RULES}#/rules/0/version: is required (expected string)`],
    ['a wrong $schema', (f: any) => f.edit(RULES, (j: any) => { j.$schema = './rules.schema.json'; }), `${RULES}#/$schema: must be "../schema/rules.schema.json"`],
    ['a bad category', rule(0, (r) => { r.category = 'labs'; }), `${RULES}#/rules/0/category: Invalid option: expected one of "eligibility"|`],
    ['a condition that is neither boolean nor a comparison', rule(1, (r) => { r.conditions.all[0] = { fact: 'hf', value: false }; }), `${RULES}#/rules/1/conditions/all/0: a condition is either { "all" | "any" | "not": ... } or a comparison with "fact", "operator" and "value"; missing "operator"`],
    ['a condition-level priority', rule(0, (r) => { r.conditions.all[0].priority = 2; }), `${RULES}#/rules/0/conditions/all/0/priority: condition-level "priority" is not supported`],
    ['a condition-level name', rule(1, (r) => { r.conditions.all[0].name = 'heart failure'; }), `${RULES}#/rules/1/conditions/all/0/name: condition-level "name" is not supported`],
    ['an unknown operator', rule(0, (r) => { r.conditions.all[0].operator = 'lessThen'; }), `${RULES}#/rules/0/conditions/all/0/operator: unknown operator "lessThen" (did you mean "lessThan"?)`],
    ['an unknown operator decorator', rule(0, (r) => { r.conditions.all[0].operator = 'someFacts:lessThan'; }), `${RULES}#/rules/0/conditions/all/0/operator: unknown operator decorator in "someFacts:lessThan"`],
    ['an unknown fact', rule(1, (r) => { r.facts.hf.fact = 'condition'; }), `${RULES}#/rules/1/facts/hf/fact: unknown fact "condition" (did you mean "conditions"?)`],
    ['an unknown fact in a condition', rule(5, (r) => { r.conditions.all[0].fact = 'inotrope'; }), `${RULES}#/rules/5/conditions/all/0/fact: unknown fact "inotrope" (did you mean "inotropes"?)`],
    ['bad fact params', rule(0, (r) => { r.facts.potassium.params.maxAge = '3 days'; }), `${RULES}#/rules/0/facts/potassium/params/maxAge: params of "latestObservation": a duration is <n><unit>`],
    ['params on a rule-local fact', rule(1, (r) => { r.conditions.all[0].params = { valueSet: 'x' }; }), `${RULES}#/rules/1/conditions/all/0/params: "hf" is a rule-local fact with its own params: remove "params" here`],
    ['an order fact in a patient-scoped rule', rule(2, (r) => { r.scope = 'patient'; r.card.suggestions = undefined; }), `${RULES}#/rules/2/conditions/all/0/fact: "order" describes the order being checked, so the rule needs "scope": "order"`],
    ['an unknown value set', rule(0, (r) => { r.facts.potassium.params.valueSet = 'kalium'; }), `${RULES}#/rules/0/facts/potassium/params/valueSet: unknown value set (value-sets/*.json) "kalium"`],
    ['an unknown threshold value', rule(0, (r) => { r.conditions.all[0].value = { threshold: 'potassium-lo' }; }), `${RULES}#/rules/0/conditions/all/0/value: unknown threshold "potassium-lo" (did you mean "potassium-low"?)`],
    ['a threshold compared in another unit', rule(0, (r) => { r.conditions.all[0].value = { threshold: 'milrinone-max-rate' }; }), `${RULES}#/rules/0/conditions/all/0/value: threshold "milrinone-max-rate" is in ug/kg/min but the fact is read in mmol/L`],
    ['an operator value of the wrong kind', rule(1, (r) => { r.conditions.all[0].value = 'no'; }), `${RULES}#/rules/1/conditions/all/0/value: "exists" compares with true or false, not "no"`],
    ['a path the fact\'s value cannot have', rule(0, (r) => { r.conditions.all[0].path = '$.valu'; }), `${RULES}#/rules/0/conditions/all/0/path: path "$.valu" cannot resolve: the value of "potassium" is an object with no "valu"; it has "value", "unit", "comparator", "date", "code", "reference", "sameTime", "display" (did you mean "value"?)`],
    ['a path through a list', rule(5, (r) => { r.conditions.all[0].path = '$.drugs.name'; }), `${RULES}#/rules/5/conditions/all/0/path: path "$.drugs.name" cannot resolve: "inotropes" $.drugs is a list with no "name"`],
    ['a literal outside an enumeration', rule(2, (r) => { r.conditions.all[0].value = 'milrinon'; }), `${RULES}#/rules/2/conditions/all/0/value: "milrinon" can never match: "order" $.drug is one of "milrinone", "dobutamine" (settings.inotropes) (did you mean "milrinone"?)`],
    ['a literal outside a fixed enumeration, in a list', rule(3, (r) => { r.conditions.all[0] = { fact: 'order', path: '$.rateStatus', operator: 'in', value: ['no-rate', 'no-weigth'] }; }), `${RULES}#/rules/3/conditions/all/0/value/1: "no-weigth" can never match: "order" $.rateStatus is one of "ok", "no-rate", "no-dose", "no-weight", "no-concentration", "unsupported-unit" (dose statuses) (did you mean "no-weight"?)`],
    ['a contained literal outside an enumeration', rule(5, (r) => { r.conditions.all[0].value = 'dobutamin'; }), `${RULES}#/rules/5/conditions/all/0/value: "dobutamin" can never match: "inotropes" $.drugs holds only values that are one of "milrinone", "dobutamine" (settings.inotropes) (did you mean "dobutamine"?)`],
    ['a filter literal outside an enumeration', rule(5, (r) => { r.conditions.all[0] = { fact: 'inotropes', path: "$.draft[?(@.origin == 'drafted')]", operator: 'exists', value: true }; }), `${RULES}#/rules/5/conditions/all/0/path: path "$.draft[?(@.origin == 'drafted')]": "drafted" can never match: "inotropes" $.draft[*].origin is one of "draft", "active" (draft or active order) (did you mean "draft"?)`],
    ['"alsoRunning" on a patient-scoped rule', rule(0, (r) => { r.alsoRunning = true; }), `${RULES}#/rules/0/alsoRunning: "alsoRunning" checks orders: the rule needs "scope": "order"`],
    ['"alsoRunning" on a rule that runs at no order entry', rule(2, (r) => { r.alsoRunning = true; r.hooks = ['patient-view']; }), `${RULES}#/rules/2/alsoRunning: "alsoRunning" checks running orders at order-select and order-sign, and the rule runs on neither`],
    ['a placeholder that names nothing', rule(0, (r) => { r.card.summary = 'Potassium {{potasium.value}}'; }), `${RULES}#/rules/0/card/summary: {{potasium.value}} names nothing: use a rule-local fact, a fact id, threshold.<name> or table.<name> (did you mean "potassium"?)`],
    ['a placeholder naming an unknown threshold', rule(0, (r) => { r.card.detail = 'below {{threshold.potassium}}'; }), `${RULES}#/rules/0/card/detail: {{threshold.potassium}} names no threshold`],
    ['a placeholder in an action resource', rule(0, (r) => { r.card.suggestions[0].actions[0].resource.subject.reference = 'Patient/{{patientt.id}}'; }), `${RULES}#/rules/0/card/suggestions/0/actions/0/resource/subject/reference: {{patientt.id}} names nothing`],
    ['an unmatched brace', rule(0, (r) => { r.card.summary = 'Potassium {{potassium.value}'; }), `${RULES}#/rules/0/card/summary: has an unmatched "{{" or "}}"`],
    ['a fact that needs params named directly in a template', rule(0, (r) => { r.card.summary = '{{latestObservation}}'; }), `${RULES}#/rules/0/card/summary: {{latestObservation}}: the fact "latestObservation" needs params`],
    ['an order action in a patient-scoped rule', rule(0, (r) => { r.card.suggestions[0].actions[0] = { type: 'delete-draft', description: 'x' }; }), `${RULES}#/rules/0/card/suggestions/0/actions/0/type: "delete-draft" acts on the order being checked: the rule needs "scope": "order"`],
    ['a create action that is not a proposal', rule(0, (r) => { r.card.suggestions[0].actions[0].resource.intent = 'order'; }), `${RULES}#/rules/0/card/suggestions/0/actions/0/resource/intent: must be "proposal"`],
    ['a duplicate rule id', rule(1, (r) => { r.id = 'T-HYPOKALEMIA'; }), `${RULES}#/rules/1/id: rule id "T-HYPOKALEMIA" is already used in ${RULES}`],
    ['a value-set file name that is not kebab-case', (f: any) => f.write('value-sets/Heart_Failure.json', JSON.stringify(vs([{ system: SNOMED, concept: [{ code: '84114007' }] }]))), 'value-sets/Heart_Failure.json: the file name is the set\'s name in rules and must be kebab-case'],
    ['a hierarchy filter on SNOMED CT', (f: any) => f.write('value-sets/af.json', JSON.stringify(vs([{ system: SNOMED, filter: [{ property: 'concept', op: 'is-a', value: '49436004' }] }]))), 'value-sets/af.json#/compose/include/0/filter/0: filters work only on ICD-10-CM'],
    ['a filter value that is not an ICD-10-CM code', (f: any) => f.write('value-sets/af.json', JSON.stringify(vs([{ system: ICD, filter: [{ property: 'concept', op: 'is-a', value: 'I4' }] }]))), 'value-sets/af.json#/compose/include/0/filter/0/value: "I4" is not an ICD-10-CM code'],
    ['an unknown included value set', (f: any) => f.write('value-sets/af.json', JSON.stringify(vs([{ valueSet: ['urn:inotrope-cds:value-set:hart-failure'] }]))), 'value-sets/af.json#/compose/include/0/valueSet/0: no file in value-sets/ has url "urn:inotrope-cds:value-set:hart-failure" (did you mean "urn:inotrope-cds:value-set:heart-failure"?)'],
    ['a set that includes itself', (f: any) => f.write('value-sets/af.json', JSON.stringify(vs([{ valueSet: ['urn:inotrope-cds:value-set:af'] }]))), 'value-sets/af.json#/compose: includes itself through af → af'],
    ['a set left empty by its excludes', (f: any) => f.write('value-sets/af.json', JSON.stringify(vs([{ system: ICD, concept: [{ code: 'I48.91' }] }], [{ system: ICD, filter: [{ property: 'concept', op: 'is-a', value: 'I48' }] }]))), 'value-sets/af.json#/compose: the set is empty after its excludes'],
    ['sets declared disjoint that share a code', (f: any) => f.write('value-sets/af.json', JSON.stringify({ ...vs([{ system: SNOMED, concept: [{ code: '84114007' }] }]), disjointWith: ['heart-failure'] })), 'value-sets/af.json#/disjointWith/0: shares a code with "heart-failure", declared disjoint: 84114007'],
    ['a set with neither codes nor names', (f: any) => f.write('value-sets/af.json', JSON.stringify({ ...vs([]), compose: undefined })), 'value-sets/af.json#/compose: a value set needs "compose" (its codes) or, where no verified code exists, "matchText" (its names)'],
    ['an include with concepts but no system', (f: any) => f.write('value-sets/af.json', JSON.stringify(vs([{ concept: [{ code: 'I48.91' }] }]))), 'value-sets/af.json#/compose/include/0: "concept" and "filter" need the "system"'],
    ['settings naming an unknown value set', (f: any) => f.edit('settings.json', (j: any) => { j.inotropes.push('levosimendan'); }), 'settings.json#/inotropes/2: unknown value set "levosimendan"'],
    ['a Y-site grade against a drug that is not an inotrope', (f: any) => f.edit('settings.json', (j: any) => { j.lineCompatibility = [{ inotrope: 'heart-failure', with: ['potassium'], grade: 'variable', finding: 'f', source: 's' }]; }), 'settings.json#/lineCompatibility/0/inotrope: "heart-failure" is not one of the inotropes'],
    ['a Y-site grade naming an unknown value set', (f: any) => f.edit('settings.json', (j: any) => { j.lineCompatibility = [{ inotrope: 'milrinone', with: ['furosemid'], grade: 'incompatible', finding: 'f', source: 's' }]; }), 'settings.json#/lineCompatibility/0/with/0: unknown value set "furosemid"'],
    ['a pair graded twice', (f: any) => f.edit('settings.json', (j: any) => { j.lineCompatibility = [{ inotrope: 'milrinone', with: ['potassium'], grade: 'incompatible', finding: 'f', source: 's' }, { inotrope: 'milrinone', with: ['potassium'], grade: 'variable', finding: 'f', source: 's' }]; }), 'settings.json#/lineCompatibility/1/with/0: milrinone + potassium is graded twice'],
    ['a grade that is not one of the three', (f: any) => f.edit('settings.json', (j: any) => { j.lineCompatibility = [{ inotrope: 'milrinone', with: ['potassium'], grade: 'never', finding: 'f', source: 's' }]; }), 'settings.json#/lineCompatibility/0/grade:'],
    ['a threshold unit that is not UCUM', (f: any) => f.edit('thresholds/thresholds.json', (j: any) => { j.thresholds['potassium-low'].unit = 'mEq/liter'; }), 'thresholds/thresholds.json#/thresholds/potassium-low/unit: not a valid UCUM unit'],
    ['table rows out of order', (f: any) => f.edit('thresholds/thresholds.json', (j: any) => { j.tables = { t: { input: { unit: 'mL/min' }, output: { unit: 'ug/kg/min' }, method: 'floor', rows: [[10, 1], [5, 2]] } }; }), 'thresholds/thresholds.json#/tables/t/rows/1: rows must be in ascending order'],
    ['a missing settings.json', (f: any) => f.write('settings.json', '').then(() => import('node:fs/promises').then((fs) => fs.rm(`${f.dir}/settings.json`))), 'settings.json: settings.json is missing'],
  ])('%s', async (_name, mistake, expected) => {
    const errors = await errorsAfter(mistake as (f: Awaited<ReturnType<typeof copyFixture>>) => Promise<void>);
    expect(errors.some((e) => e.startsWith(expected)), `expected an error starting with\n  ${expected}\ngot\n  ${errors.join('\n  ')}`).toBe(true);
  });

  it('lists every mistake at once, not just the first', async () => {
    const errors = await errorsAfter(async (f) => {
      await f.edit(RULES, (j) => {
        j.rules[0].conditions.all[0].operator = 'lessThen';
        j.rules[1].facts.hf.fact = 'condition';
        j.rules[2].card.summary = '{{ordr.name}}';
      });
      await f.edit('thresholds/thresholds.json', (j) => {
        j.thresholds['potassium-low'].maxAge = 'three days';
      });
    });
    expect(errors).toHaveLength(4);
  });

  it('does not check retired rules beyond their shape', async () => {
    // T-RETIRED names an unknown fact and placeholder; the fixture still loads.
    await expect(loadRuleset('test/fixtures/rules')).resolves.toMatchObject({ counts: { retired: 1 } });
  });

  it('loadRuleset throws one error that lists them all', async () => {
    const fixture = await copyFixture();
    cleanup = fixture.remove;
    await fixture.edit(RULES, (j) => {
      j.rules[0].conditions.all[0].operator = 'lessThen';
      j.rules[1].card.summary = '{{nothing}}';
    });
    const error = await loadRuleset(fixture.dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RulesetLoadError);
    expect((error as RulesetLoadError).errors).toHaveLength(2);
    expect((error as Error).message).toMatch(/^The ruleset has 2 errors:\n {2}rules\/rules\.json#\/rules\/0/);
  });
});

describe('a JSON slip names its line and column with one plain message', () => {
  const T = 'thresholds/thresholds.json';
  it.each([
    ['a trailing comma', '{\n  "thresholds": {},\n}\n', `${T}: is not valid JSON at line 2, column 19: trailing comma: JSON allows no "," after the last item before "}"`],
    ['single quotes', "{\n  'thresholds': {}\n}\n", `${T}: is not valid JSON at line 2, column 3: single quotes: JSON strings and keys need double quotes (")`],
    ['a missing comma', '{\n  "thresholds": {}\n  "tables": {}\n}\n', `${T}: is not valid JSON at line 3, column 3: missing comma: put a "," between this item and the one before it`],
    ['a truncated file', '{\n  "thresholds": {\n    "a": {', `${T}: is not valid JSON at line 3, column 11: the file ends too early (cut off?): a string, "]" or "}" is not closed`],
    ['a comment', '{\n  // site values\n  "thresholds": {}\n}\n', `${T}: is not valid JSON at line 2, column 3: comments are not allowed in JSON`],
    ['an empty file', '', `${T}: is not valid JSON at line 1, column 1: the file is empty`],
  ])('%s', async (_name, text, expected) => {
    const errors = await errorsAfter((f) => f.write(T, text));
    expect(errors.filter((e) => e.startsWith(`${T}:`))).toEqual([expected]);
  });

  it('reports every slip of a file once, without knock-on errors', async () => {
    const errors = await errorsAfter((f) => f.write('thresholds/thresholds.json', "{\n  'thresholds': {},\n  \"tables\": {},\n}\n"));
    expect(errors.filter((e) => e.startsWith('thresholds/'))).toEqual([
      'thresholds/thresholds.json: is not valid JSON at line 2, column 3: single quotes: JSON strings and keys need double quotes (")',
      'thresholds/thresholds.json: is not valid JSON at line 3, column 15: trailing comma: JSON allows no "," after the last item before "}"',
    ]);
  });

  it('reports the slips of one file and the shape errors of the others in the same run', async () => {
    const errors = await errorsAfter(async (f) => {
      await f.write('settings.json', '{ "inotropes": [ }');
      await f.edit(RULES, (j) => {
        j.rules[0].sumary = 'x';
      });
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^settings\.json: is not valid JSON at line 1, column 18: /),
        `${RULES}#/rules/0: unknown key "sumary" (misspelt, or not allowed here)`,
      ]),
    );
  });
});

describe('a knowledge file with errors', () => {
  it('reports its own errors without an error for every rule or setting that names it', async () => {
    const errors = await errorsAfter((f) => f.write('value-sets/milrinone.json', '{ "resourceType": '));
    expect(errors[0]).toMatch(/^value-sets\/milrinone\.json: is not valid JSON/);
    expect(errors.filter((e) => e.includes('"milrinone"'))).toEqual([]);
  });
});
