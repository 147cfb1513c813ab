import { describe, expect, it } from 'vitest';
import { formatLoadError } from '../../src/rules/load-error.js';
import { readRuleset } from '../../src/rules/load.js';
import { describeFailure, readScenarios, runScenario, runsInFetchMode } from '../../src/scenarios/run-scenarios.js';

// The shipped ruleset's scenario tests (rules/tests/*.json), one vitest test per scenario, run through
// the same request parsing, data layer and rules as the service. `npm run rules:test` runs the same.
const loaded = await readRuleset('rules');
const { cases, errors } = await readScenarios('rules');

describe('rules/ scenarios', () => {
  it('the ruleset and every scenario file load without errors', () => {
    expect([...(loaded.ok ? [] : loaded.errors), ...errors].map(formatLoadError)).toEqual([]);
  });

  for (const c of cases) {
    it.runIf(loaded.ok)(`${c.file} › ${c.scenario.name}`, async () => {
      if (!loaded.ok) return;
      const result = await runScenario(loaded.ruleset, c);
      if (result.problems.length > 0) expect.fail(describeFailure(c, result));
    });
  }
});

// The same scenarios with no prefetch: the service reads the chart from a loopback FHIR server. Fetch
// mode must give the same cards as prefetch mode (scenarios that shape the prefetch itself are left out).
describe('rules/ scenarios, fetch mode', () => {
  for (const c of cases.filter((c) => runsInFetchMode(c.scenario))) {
    it.runIf(loaded.ok)(`${c.file} › ${c.scenario.name} [fetch]`, async () => {
      if (!loaded.ok) return;
      const result = await runScenario(loaded.ruleset, c, 'fetch');
      if (result.problems.length > 0) expect.fail(describeFailure(c, result));
    });
  }
});
