import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/facts/value-sets.js';
import { expandValueSets } from '../../src/rules/expand-value-sets.js';
import type { LoadError } from '../../src/rules/load-error.js';
import { valueSetFileSchema, type ValueSetFile } from '../../src/rules/value-set-file.js';

const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const SNOMED = 'http://snomed.info/sct';
const VSAC_HF = 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.3.376';

function file(name: string, body: Omit<ValueSetFile, '$schema' | 'resourceType' | 'title'> & { title?: string }) {
  const content = valueSetFileSchema.parse({ $schema: '../schema/value-set.schema.json', resourceType: 'ValueSet', title: name, ...body });
  return { file: `value-sets/${name}.json`, content };
}

function expand(...files: ReturnType<typeof file>[]) {
  const errors: LoadError[] = [];
  const sets = expandValueSets(files, new Set(), errors);
  expect(errors).toEqual([]);
  return sets;
}

describe('value-set expansion', () => {
  const sets = expand(
    file('vsac-hf', { url: VSAC_HF, version: '20210218', compose: { include: [{ system: SNOMED, concept: [{ code: '84114007' }, { code: '10633002' }] }, { system: ICD, concept: [{ code: 'I50.22' }] }] } }),
    file('heart-failure', {
      compose: {
        include: [
          { valueSet: [`${VSAC_HF}|20210218`] },
          { system: SNOMED, concept: [{ code: '128404006', display: 'Right heart failure' }] },
          { system: ICD, filter: [{ property: 'concept', op: 'is-a', value: 'I50' }] },
        ],
        exclude: [{ system: ICD, filter: [{ property: 'concept', op: 'is-a', value: 'I50.81' }] }],
      },
    }),
    file('af', {
      compose: {
        include: [{ system: ICD, filter: [{ property: 'concept', op: 'descendent-of', value: 'I48' }] }, { system: SNOMED, concept: [{ code: '49436004' }, { code: '312442005' }] }],
        exclude: [{ system: SNOMED, concept: [{ code: '312442005' }] }, { system: ICD, concept: [{ code: 'I48.2' }] }],
      },
    }),
  );
  const hf = sets.get('heart-failure')!;
  const af = sets.get('af')!;

  it.each([
    ['a code of an included set', hf, `${SNOMED}|10633002`, true],
    ['a listed code', hf, `${SNOMED}|128404006`, true],
    ['the filter code itself (is-a)', hf, `${ICD}|I50`, true],
    ['a code two levels below the filter', hf, `${ICD}|I50.22`, true],
    ['a code below the filter written without its dot', hf, `${ICD}|I5043`, true],
    ['a code below the filter in lower case', hf, `${ICD}|i50.9`, true],
    ['a code under an excluded branch', hf, `${ICD}|I50.812`, false],
    ['the excluded branch itself', hf, `${ICD}|I50.81`, false],
    ['a sibling category that shares a prefix digit', hf, `${ICD}|I51.9`, false],
    ['the same code in another system', hf, `${SNOMED}|I50.22`, false],
    ['the parent of descendent-of', af, `${ICD}|I48`, false],
    ['a descendant of descendent-of', af, `${ICD}|I48.91`, true],
    ['a filter member excluded by code', af, `${ICD}|I48.2`, false],
    ['a listed code excluded by code', af, `${SNOMED}|312442005`, false],
    ['a listed code not excluded', af, `${SNOMED}|49436004`, true],
  ])('%s', (_name, set, key, expected) => {
    expect(hasCode(set, key)).toBe(expected);
  });

  it('keeps the published identity of an imported set and gives curated sets their own url', () => {
    expect(sets.get('vsac-hf')).toMatchObject({ url: VSAC_HF, version: '20210218' });
    expect(hf.url).toBe('urn:inotrope-cds:value-set:heart-failure');
  });

  it('refuses an include of another version than the file holds', () => {
    const errors: LoadError[] = [];
    expandValueSets(
      [
        file('vsac-hf', { url: VSAC_HF, version: '20210218', compose: { include: [{ system: SNOMED, concept: [{ code: '84114007' }] }] } }),
        file('hf', { compose: { include: [{ valueSet: [`${VSAC_HF}|20250101`] }] } }),
      ],
      new Set(),
      errors,
    );
    expect(errors).toEqual([{ file: 'value-sets/hf.json', pointer: '/compose/include/0/valueSet/0', message: 'value-sets/vsac-hf.json is version 20210218, not 20250101' }]);
  });

  it('reports sets declared disjoint whose ICD-10-CM branches overlap', () => {
    const errors: LoadError[] = [];
    expandValueSets(
      [
        file('hcm-obstructive', { disjointWith: ['hcm-other'], compose: { include: [{ system: ICD, concept: [{ code: 'I42.1' }] }] } }),
        file('hcm-other', { compose: { include: [{ system: ICD, filter: [{ property: 'concept', op: 'is-a', value: 'I42' }] }] } }),
      ],
      new Set(),
      errors,
    );
    expect(errors.map((e) => e.message)).toEqual(['shares a code with "hcm-other", declared disjoint: I42.1']);
  });
});
