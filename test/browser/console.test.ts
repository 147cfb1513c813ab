import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createApp } from '../../src/http/app.js';
import { loadRuleset } from '../../src/rules/load.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import { logCapture, staticSource } from '../helpers.js';
import { buildConsole, hasChromium, launch, listen } from './harness.js';

/**
 * The informaticist console in a real browser (Debian's Chromium through playwright-core) against the
 * real service: cards and feedback are seeded through the CDS Hooks endpoints, then the dashboard,
 * a rule's page, the ruleset page and the playground are checked against what the API answers.
 * `CONSOLE_SCREENSHOTS=1` also writes the screenshots shown in docs/console.md.
 */

const TOKEN = 'console-test-operator-token-0123456789abcdef';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? path.resolve('docs/console') : undefined;
const require = createRequire(import.meta.url);

describe.skipIf(!hasChromium)('console in Chromium', { timeout: 60_000 }, () => {
  let server: Server;
  let origin: string;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let consoleDir: string;
  let page: Page;
  const logs: string[] = [];

  const api = async <T>(url: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${origin}${url}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });
    expect(res.status, `${url} answered ${res.status}`).toBe(200);
    return (await res.json()) as T;
  };

  const shot = async (name: string) => {
    if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
  };

  /** axe-core's serious and critical findings on the page as it is now. */
  const axeFindings = async (): Promise<string[]> => {
    const source = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(source);
    const found = await page.evaluate(async () => {
      type Axe = { run: (ctx: unknown, o: object) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      const { axe, document } = globalThis as unknown as { axe: Axe; document: unknown };
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}) at ${v.where.join(', ')}`);
  };

  /** Signs in through the form unless this tab already holds the token. */
  const signIn = async () => {
    await page.goto(`${origin}/console/`);
    const form = page.getByLabel('Operator token');
    const nav = page.getByRole('navigation', { name: 'Console' });
    await Promise.race([form.waitFor(), nav.waitFor()]);
    if (await form.count()) {
      await form.fill(TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await nav.waitFor();
    }
  };

  beforeAll(async () => {
    consoleDir = await buildConsole();
    const config = testConfig({ ADMIN_TOKEN: TOKEN });
    const capture = logCapture();
    capture.stream.on('data', () => {});
    const ruleset = await loadRuleset(config.RULES_DIR);
    const app = createApp({
      config,
      logger: createLogger({ LOG_LEVEL: 'info' }, capture.stream),
      rules: staticSource(ruleset),
      stores: memoryStores(config, () => new Date()),
      consoleDir,
    });
    logs.push(...capture.lines);
    ({ server, origin } = await listen(app as never));
    await seed();
    ({ context, close: closeBrowser } = await launch());
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await closeBrowser?.();
    await new Promise((resolve) => server?.close(resolve));
    if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
  });

  /** Four order-sign calls; their cards get feedback: one rule overridden every time, another accepted. */
  let overriddenRule = '';
  async function seed() {
    const request = JSON.parse(await readFile('examples/order-sign-milrinone.json', 'utf8')) as object;
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await api<{ cards: { uuid: string; suggestions?: { uuid: string }[]; overrideReasons?: { system: string; code: string }[]; extension: Record<string, { id: string }> }[] }>(
        '/cds-services/inotrope-order-sign',
        { method: 'POST', body: JSON.stringify(request) },
      ));
    }
    const withReasons = answers[0]!.cards.find((c) => c.overrideReasons?.length);
    const withSuggestion = answers[0]!.cards.find((c) => c.suggestions?.length && c !== withReasons);
    expect(withReasons, 'a card with override reasons').toBeDefined();
    overriddenRule = withReasons!.extension['org.inotrope-cds.rule']!.id;
    const feedback = answers.flatMap((a, i) => {
      const over = a.cards.find((c) => c.extension['org.inotrope-cds.rule']!.id === overriddenRule)!;
      const items: object[] = [
        { card: over.uuid, outcome: 'overridden', overrideReason: { reason: over.overrideReasons![i % 2 === 0 ? 0 : over.overrideReasons!.length - 1] }, outcomeTimestamp: new Date().toISOString() },
      ];
      const acc = withSuggestion && a.cards.find((c) => c.extension['org.inotrope-cds.rule']!.id === withSuggestion.extension['org.inotrope-cds.rule']!.id);
      if (acc && i < 2) items.push({ card: acc.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: acc.suggestions![0]!.uuid }], outcomeTimestamp: new Date().toISOString() });
      return items;
    });
    await api('/cds-services/inotrope-order-sign/feedback', { method: 'POST', body: JSON.stringify({ feedback }) });
  }

  it('shows the sign-in form and no data without the operator credential, and refuses a wrong one', async () => {
    expect((await fetch(`${origin}/admin/ruleset`)).status).toBe(401);
    expect((await fetch(`${origin}/analytics/rules`)).status).toBe(401);
    const shell = await fetch(`${origin}/console/`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await shell.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);

    await page.goto(`${origin}/console/`);
    await page.getByLabel('Operator token').waitFor();
    expect(await page.locator('table.rules').count()).toBe(0);
    await page.getByLabel('Operator token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('refusal').textContent()).toContain('operator credential');
    expect(await page.locator('nav').count()).toBe(0);
    expect(await axeFindings()).toEqual([]);
    await shot('sign-in');
  });

  it('lists every rule with the API’s numbers; the most overridden rule comes first and stands out; filters apply', async () => {
    await signIn();
    await page.locator('table.rules tbody tr').first().waitFor();
    const stats = await api<{ rules: { id: string; shown: number; overridden: number; accepted: number; overrideRate: number | null }[] }>('/analytics/rules');
    const top = [...stats.rules].sort((a, b) => (b.overrideRate ?? -1) - (a.overrideRate ?? -1))[0]!;
    expect(top.id).toBe(overriddenRule);
    const first = page.locator('table.rules tbody tr').first();
    expect(await first.getAttribute('data-rule')).toBe(overriddenRule);
    expect(await first.getAttribute('class')).toContain('high-override');
    expect(await first.locator('td').nth(3).textContent()).toBe(String(top.shown));
    expect(await first.locator('[data-col=overrideRate]').textContent()).toContain('100%');
    // Every rule of the ruleset is listed, with or without cards.
    const ruleset = await api<{ rules: unknown[] }>('/admin/ruleset');
    expect(await page.locator('table.rules tbody tr').count()).toBeGreaterThanOrEqual(ruleset.rules.length);
    await page.locator('table.rules tbody tr').first().locator('.sparkline canvas').waitFor();
    expect(await axeFindings()).toEqual([]);
    await shot('dashboard');

    // Another service saw none of these cards.
    await page.getByLabel('Service').selectOption('inotrope-patient-view');
    await expect.poll(() => page.locator(`table.rules tbody tr[data-rule="${overriddenRule}"] td`).nth(3).textContent()).toBe('0');
    await page.getByLabel('Service').selectOption('');
    await expect.poll(() => page.locator(`table.rules tbody tr[data-rule="${overriddenRule}"] td`).nth(3).textContent()).toBe(String(top.shown));
    // Sorting by rule id puts the rows in id order.
    await page.getByRole('button', { name: /^Rule/ }).click();
    const ids = await page.locator('table.rules tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-rule')!));
    expect(ids).toEqual([...ids].sort((a, b) => a.localeCompare(b)));
  });

  it('shows a rule’s plot, override reasons and versions exactly as the API counts them', async () => {
    await signIn();
    await page.locator(`table.rules tbody tr[data-rule="${overriddenRule}"] th a`).click();
    await page.getByRole('heading', { name: new RegExp(overriddenRule) }).waitFor();
    await page.locator('figure.chart canvas').first().waitFor();
    const series = await api<{ points: { start: string; shown: number; accepted: number; overridden: number }[] }>(
      `/analytics/rules/${overriddenRule}/timeseries?bucket=day`,
    );
    await page.getByText('Numbers behind this chart').click();
    const table = await page.getByTestId('timeseries-table').locator('tbody tr').evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll('th, td')].map((c) => c.textContent)),
    );
    const withCards = series.points.filter((p) => p.shown > 0);
    expect(withCards.length).toBeGreaterThan(0);
    for (const p of withCards) expect(table).toContainEqual([p.start.slice(0, 10), String(p.shown), String(p.accepted), String(p.overridden)]);
    const stats = await api<{ rules: { id: string; overrideReasons: Record<string, number> }[] }>('/analytics/rules');
    const reasons = stats.rules.find((r) => r.id === overriddenRule)!.overrideReasons;
    const bars = await page.getByTestId('bar-table').locator('tbody td').allTextContents();
    expect(bars.map(Number).sort()).toEqual(Object.values(reasons).sort());
    expect(await page.getByTestId('versions').locator('[data-col=overridden]').textContent()).toBe('4');
    expect(await page.getByTestId('rule-conditions').textContent()).toMatch(/ALL of|ANY of/);
    expect(await axeFindings()).toEqual([]);
    await shot('rule');
  });

  it('runs an example in the playground: the cards a CDS client shows and why each rule fired', async () => {
    await signIn();
    await page.getByRole('link', { name: 'Playground' }).click();
    await page.getByLabel('Example request').selectOption('order-sign-milrinone');
    await expect.poll(() => page.getByLabel('CDS Hooks request (JSON)').inputValue()).toContain('"hook": "order-sign"');
    expect(await page.getByLabel(/"Now"/).inputValue()).toBe('2026-11-21T12:00');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByTestId('cards').waitFor();
    const request = JSON.parse(await readFile('examples/order-sign-milrinone.json', 'utf8')) as object;
    const answer = await api<{ cards: { summary: string; indicator: string }[]; explanation: { rule: string; outcome: string }[] }>('/admin/evaluate', {
      method: 'POST',
      body: JSON.stringify({ ...request, now: '2026-11-21T12:00:00Z' }),
    });
    const summaries = await page.locator('.cds-card .summary').allTextContents();
    expect(summaries).toEqual(answer.cards.map((c) => c.summary));
    expect(await page.locator('.cds-card.indicator-warning').count()).toBe(answer.cards.filter((c) => c.indicator === 'warning').length);
    const fired = answer.explanation.filter((x) => x.outcome === 'fired').map((x) => x.rule);
    expect(fired.length).toBeGreaterThan(0);
    for (const rule of fired) expect(await page.locator(`details.explain.outcome-fired[data-rule="${rule}"]`).count()).toBeGreaterThan(0);
    // A fired rule's explanation names the value read, with its unit and date, and the threshold.
    const hypo = page.locator('details.explain[data-rule="CI-HYPOKALEMIA"]');
    expect(await hypo.textContent()).toMatch(/3\.3 mmol\/L.*dated 2026-11-21/s);
    expect(await hypo.textContent()).toContain('threshold potassium-low');
    // The comparisons that decided it are marked; the one its ANY did not need is not.
    expect(await hypo.locator('.cond-leaf.decides').allTextContents()).toEqual([expect.stringContaining('potassium'), expect.stringContaining('inotropes')]);
    expect(await axeFindings()).toEqual([]);
    await page.locator('.results').evaluate((el) => (el as unknown as { scrollIntoView(o: object): void }).scrollIntoView({ block: 'start' }));
    await shot('playground');

    // A changed chart: potassium corrected to 4.2 mmol/L. The rule no longer fires, and the potassium
    // comparison is the one that decided it.
    const edited = (await page.getByLabel('CDS Hooks request (JSON)').inputValue()).replace('"value": 3.3,', '"value": 4.2,');
    expect(edited).toContain('"value": 4.2,');
    await page.getByLabel('CDS Hooks request (JSON)').fill(edited);
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.locator('details.explain.outcome-not-fired[data-rule="CI-HYPOKALEMIA"]').waitFor();
    expect(await page.locator('.cds-card .summary').allTextContents()).not.toContainEqual(expect.stringContaining('Potassium'));
    const decided = page.locator('details.explain[data-rule="CI-HYPOKALEMIA"] .cond-leaf.decides');
    expect(await decided.count()).toBe(1);
    expect(await decided.textContent()).toMatch(/potassium.*4\.2 mmol\/L/s);
    expect(await decided.getAttribute('class')).toContain('fail');
  });

  // The first visit runs every scenario of rules/tests on the server (a few seconds; longer on a loaded machine).
  it('shows the ruleset: version, value sets, a code search that reaches the rules, scenario results', { timeout: 150_000 }, async () => {
    await signIn();
    await page.getByRole('link', { name: 'Ruleset' }).click();
    const ruleset = await api<{ version: string; valueSets: unknown[] }>('/admin/ruleset');
    expect(await page.getByTestId('ruleset-version').textContent()).toBe(ruleset.version);
    expect(await page.getByTestId('value-sets').locator('tbody tr').count()).toBe(ruleset.valueSets.length);
    await page.getByLabel('Code or words of its display').fill('1791840');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByTestId('code-hits').textContent()).toContain('DOSE-MIL-MAX');
    await expect.poll(() => page.getByTestId('scenario-summary').textContent(), { timeout: 140_000 }).toMatch(/^\d+ passed, 0 failed/);
    expect(await axeFindings()).toEqual([]);
    await shot('ruleset');
  });

  it('wrote nothing pasted into the playground to the log', () => {
    expect(logs.join('\n')).not.toContain('3.3');
  });
});
