import { describe, expect, it } from 'vitest';
import { formatLoadError } from '../../src/rules/load-error.js';
import { readRuleset } from '../../src/rules/load.js';
import { describeFailure, readScenarios, runScenario } from '../../src/scenarios/run-scenarios.js';

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
