import { describe, expect, it } from 'vitest';
import { fillTemplate, tokenValues } from '../../src/patient-data/tokens.js';
import type { HookRequest } from '../../src/cds/request-schema.js';

const context = (userId: string, extra: Record<string, unknown> = {}) =>
  ({ userId, patientId: '1288992', encounterId: '89284', ...extra }) as unknown as HookRequest['context'];

describe('prefetch tokens (CDS Hooks 2.0, "Prefetch tokens")', () => {
  it('fills the spec example templates', () => {
    // spec-stu2/prefetch-templates.json (CDS Hooks 2.0.1 §Example prefetch templates)
    const prefetch: Record<string, string> = {
      patient: 'Patient/{{context.patientId}}',
      'diabetes-type2': 'Condition?patient={{context.patientId}}&code=44054006&category=problem-list-item&status=active',
      user: 'PractitionerRole?_id={{userPractitionerRoleId}}',
    };
    const values = tokenValues(context('PractitionerRole/123'));
    expect(fillTemplate(prefetch.patient!, values)).toBe('Patient/1288992');
    expect(fillTemplate(prefetch.user!, values)).toBe('PractitionerRole?_id=123');
    expect(fillTemplate(prefetch['diabetes-type2']!, values)).toBe(
      'Condition?patient=1288992&code=44054006&category=problem-list-item&status=active',
    );
  });

  it('derives the user*Id tokens from userId and leaves the others without a value', () => {
    const values = tokenValues(context('Practitioner/abc'));
    expect(fillTemplate('Practitioner/{{userPractitionerId}}', values)).toBe('Practitioner/abc');
    expect(fillTemplate('{{context.userId}}', values)).toBe('Practitioner/abc');
    expect(fillTemplate('PractitionerRole?_id={{userPractitionerRoleId}}', values)).toBeUndefined();
    expect(fillTemplate('Patient/{{userPatientId}}', values)).toBeUndefined();
  });

  it('has no value for an absent context field, an unknown token, or a non-prefetch field', () => {
    const values = tokenValues({ userId: 'Practitioner/abc', patientId: 'p1' } as HookRequest['context']);
    expect(fillTemplate('Encounter/{{context.encounterId}}', values)).toBeUndefined();
    expect(fillTemplate('Observation?date=ge{{today()}}', values)).toBeUndefined();
    expect(fillTemplate('X?s={{context.selections}}', tokenValues(context('Practitioner/a', { selections: ['MedicationRequest/1'] })))).toBeUndefined();
  });

  it('refuses values that could step outside the path', () => {
    expect(fillTemplate('Patient/{{context.patientId}}', tokenValues(context('Practitioner/a', { patientId: '..' })))).toBeUndefined();
  });

  it('fills every occurrence and tolerates spaces inside the braces', () => {
    expect(fillTemplate('A?x={{ context.patientId }}&y={{context.patientId}}', tokenValues(context('Practitioner/a')))).toBe('A?x=1288992&y=1288992');
  });
});
