import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { cutSummary, escapeMarkdown, formatValue, parseTemplate } from '../../src/cards/template.js';
import { kebabName } from '../../src/cli/terminology-import.js';
import { durationMs } from '../../src/facts/params.js';
import { withEvaluationTime } from '../../src/facts/fhirpath.js';
import { csv } from '../../src/http/analytics-routes.js';
import { parseBaseUrl } from '../../src/patient-data/allowlist.js';
import { fillTemplate } from '../../src/patient-data/tokens.js';
import { compilePath } from '../../src/rules/path-resolver.js';
import { joinLines, trimBoth, trimEnd } from '../../src/shared/syntax.js';
import { makeApp } from '../helpers.js';
import { expectLinearCost } from './cost.js';
import { withHocmDisplay } from './security-helpers.js';

/**
 * Every function of src/ that runs a regex (or replaced one) over text a record, a request or a rule file
 * can carry, over 100 k-character pathological strings: whitespace runs, unclosed placeholders, runs of
 * the character a pattern repeats. `npm run lint` rejects super-linear regexes (eslint-plugin-regexp);
 * this proves the replacements, and catches what a linter cannot see (a library, a split, a loop).
 */

const spaces = (n: number) => ' '.repeat(n);

describe('string handling is linear on pathological input', () => {
  const cases: [string, (n: number) => unknown][] = [
    ['formatValue, a whitespace run without a line break', (n) => formatValue(`Hypertrophic${spaces(n)}cardiomyopathy`)],
    ['formatValue, a whitespace run around a line break', (n) => formatValue(`a${spaces(n / 2)}\n${spaces(n / 2)}b`)],
    ['formatValue, line breaks only', (n) => formatValue('\n \t'.repeat(n / 3))],
    ['cutSummary, a whitespace run', (n) => cutSummary(`x${spaces(n)}y`)],
    ['escapeMarkdown, special characters only', (n) => escapeMarkdown('*_['.repeat(n / 3))],
    ['parseTemplate, unclosed placeholders', (n) => parseTemplate('{{'.repeat(n / 2))],
    ['parseTemplate, an unclosed placeholder of spaces', (n) => parseTemplate(`{{${spaces(n)}`)],
    ['parseTemplate, many placeholders', (n) => parseTemplate('{{a}}'.repeat(n / 5))],
    ['fillTemplate, unclosed tokens', (n) => fillTemplate(`Observation?x={{${spaces(n)}`, new Map())],
    ['fillTemplate, many tokens', (n) => fillTemplate('{{ context.patientId }}'.repeat(n / 23), new Map([['context.patientId', 'p']]))],
    ['kebabName, capitals', (n) => kebabName(`${'A'.repeat(n)}1`)],
    ['kebabName, hyphens', (n) => kebabName(`${'-'.repeat(n)}a${'-'.repeat(n)}`)],
    ['parseBaseUrl, a slash run', (n) => parseBaseUrl(`https://ehr.example.org/fhir${'/'.repeat(n)}`)],
    ['trimEnd / trimBoth, a run then another character', (n) => [trimEnd(`${'/'.repeat(n)}a`, '/'), trimBoth(`${'-'.repeat(n)}a`, '-')]],
    ['joinLines, whitespace and line breaks', (n) => joinLines(`${' \n'.repeat(n / 2)}x`)],
    ['durationMs, a long number', (n) => durationMs(`${'1'.repeat(n)}x`)],
    ['withEvaluationTime, quotes and calls', (n) => withEvaluationTime(`'${"\\'".repeat(n / 3)}now( `)],
    ['withEvaluationTime, an unclosed string', (n) => withEvaluationTime(`'${'a'.repeat(n)}`)],
    ['csv, quotes and formula characters', (n) => csv(['a'], [{ a: `=${'"'.repeat(n)}` }])],
    ['compilePath, a long chain that fails at the end', (n) => compilePath(`$${'.a'.repeat(n / 2)}[?(@.k == 'x'`)],
  ];
  for (const [label, run] of cases) {
    it(label, async () => expectLinearCost(label, run));
  }
});

describe('a long whitespace run in a record (attack replayed over HTTP)', () => {
  it("a condition's display with a whitespace run costs linear time and still gives its card", async () => {
    const { app, ruleset } = await makeApp();
    const body = (n: number) => withHocmDisplay(ruleset, `Hypertrophic${spaces(n)}obstructive cardiomyopathy`);
    const call = async (n: number) => {
      const res = await request(app).post('/cds-services/inotrope-order-sign').send(body(n));
      expect(res.status).toBe(200);
      const cards = res.body.cards as { summary: string }[];
      expect(cards.some((c) => c.summary.startsWith('Dobutamine is contraindicated with Hypertrophic'))).toBe(true);
    };
    await expectLinearCost('order-sign with a long display', call, { floorMs: 300 });
  }, 120_000);
});
