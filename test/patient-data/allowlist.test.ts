import { describe, expect, it } from 'vitest';
import { isAllowed } from '../../src/patient-data/allowlist.js';

describe('FHIR server allowlist', () => {
  const list = ['https://ehr.example.org/fhir/', 'http://localhost:8080'];

  it.each([
    ['https://ehr.example.org/fhir', true],
    ['https://EHR.example.org/fhir/', true],
    ['https://ehr.example.org:443/fhir/r4', true],
    ['http://localhost:8080/baseR4', true],
    ['https://ehr.example.org/fhir2', false],
    ['https://ehr.example.org/', false],
    ['http://ehr.example.org/fhir', false],
    ['https://ehr.example.org:8443/fhir', false],
    ['https://ehr.example.org.evil.test/fhir', false],
    ['https://user:pw@ehr.example.org/fhir', false],
    ['ftp://ehr.example.org/fhir', false],
    ['file:///etc/passwd', false],
    ['not a url', false],
  ])('%s → %s', (server, expected) => {
    expect(isAllowed(server, list)).toBe(expected);
  });

  it('allows nothing when the list is empty, and ignores entries that are not base URLs', () => {
    expect(isAllowed('https://ehr.example.org/fhir', [])).toBe(false);
    expect(isAllowed('https://ehr.example.org/fhir', ['garbage', 'https://ehr.example.org/fhir?x=1'])).toBe(false);
  });
});
