import { describe, expect, it } from 'vitest';
import { ConfigError, fhirLimits, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const config = loadConfig({ CDS_AUTH: 'off' });
    expect(config).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', LOG_LEVEL: 'info', CDS_AUTH: 'off', FHIR_BUDGET_MS: 400, FHIR_SERVER_ALLOWLIST: [] });
  });

  it('names every bad variable', () => {
    expect(() => loadConfig({ CDS_AUTH: 'off', PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/);
  });

  it('requires PUBLIC_BASE_URL and CDS_CLIENTS_FILE when authentication is on (the default)', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/PUBLIC_BASE_URL[\s\S]*CDS_CLIENTS_FILE/);
  });

  it('takes DISPLAY_TIME_ZONE as an IANA time zone name, UTC by default, and refuses anything else', () => {
    expect(loadConfig({ CDS_AUTH: 'off' }).DISPLAY_TIME_ZONE).toBe('UTC');
    expect(loadConfig({ CDS_AUTH: 'off', DISPLAY_TIME_ZONE: 'America/New_York' }).DISPLAY_TIME_ZONE).toBe('America/New_York');
    for (const bad of ['Mars/Olympus_Mons', 'EST+5', '+01:00', '']) {
      expect(() => loadConfig({ CDS_AUTH: 'off', DISPLAY_TIME_ZONE: bad }), bad).toThrow(/DISPLAY_TIME_ZONE/);
    }
  });

  it('refuses a FHIR budget that the request timeout would cut short', () => {
    expect(() => loadConfig({ CDS_AUTH: 'off', FHIR_BUDGET_MS: '2500', REQUEST_TIMEOUT_MS: '2000' })).toThrow(/FHIR_BUDGET_MS/);
  });

  it('splits comma lists', () => {
    expect(loadConfig({ CDS_AUTH: 'off', FHIR_SERVER_ALLOWLIST: 'https://a.example/fhir, https://b.example/r4 ' }).FHIR_SERVER_ALLOWLIST).toEqual([
      'https://a.example/fhir',
      'https://b.example/r4',
    ]);
  });
});

describe('fhirLimits', () => {
  it('hands each FHIR limit of the configuration to the data layer under its own name', () => {
    const config = loadConfig({
      CDS_AUTH: 'off',
      FHIR_BUDGET_MS: '900',
      FHIR_REQUEST_TIMEOUT_MS: '700',
      FHIR_MAX_PAGES: '3',
      FHIR_MAX_RESOURCES: '250',
      FHIR_MAX_RESPONSE_BYTES: '65536',
    });
    expect(fhirLimits(config)).toEqual({
      budgetMs: 900,
      requestTimeoutMs: 700,
      maxPages: 3,
      maxResources: 250,
      maxResponseBytes: 65_536,
      maxCallBytes: 8_388_608,
      maxRequests: 60,
      maxConcurrency: 8,
      maxBytesInFlight: 16_777_216,
      maxDepth: 64,
    });
  });
});
