import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createApp } from '../../src/http/app.js';
import { loadRuleset } from '../../src/rules/load.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import { staticSource } from '../helpers.js';
import { buildConsole, hasChromium, launch, listen } from './harness.js';
import { startProvider, type Provider } from './oidc-provider.js';

/**
 * The console signing an operator in with OIDC in a real browser: authorization code with PKCE against
 * a loopback identity provider (test/browser/oidc-provider.ts), the service configured with
 * ADMIN_OIDC_ISSUER, ADMIN_OIDC_AUDIENCE and ADMIN_OIDC_CLIENT_ID. The provider exchanges a code only
 * for the verifier of its S256 challenge, so the sign-in succeeds only if the console did PKCE right.
 */

const CLIENT_ID = 'inotrope-cds-console';
const AUDIENCE = 'inotrope-cds-admin';

describe.skipIf(!hasChromium)('console sign-in with OIDC in Chromium', { timeout: 60_000 }, () => {
  let server: Server;
  let origin: string;
  let provider: Provider;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let consoleDir: string;

  beforeAll(async () => {
    consoleDir = await buildConsole();
    // The console's redirect URI is its own address, known once the service listens: the app is
    // created behind a late-bound handler.
    const late: { app?: (req: never, res: never) => void } = {};
    ({ server, origin } = await listen(((req: never, res: never) => late.app!(req, res)) as never));
    provider = await startProvider({ clientId: CLIENT_ID, audience: AUDIENCE, redirectUri: `${origin}/console/` });
    const config = testConfig({ ADMIN_OIDC_ISSUER: provider.issuer, ADMIN_OIDC_AUDIENCE: AUDIENCE, ADMIN_OIDC_CLIENT_ID: CLIENT_ID });
    const ruleset = await loadRuleset(config.RULES_DIR);
    late.app = createApp({
      config,
      logger: createLogger({ LOG_LEVEL: 'silent' }),
      rules: staticSource(ruleset),
      stores: memoryStores(config, () => new Date()),
      consoleDir,
    }) as never;
    ({ context, close: closeBrowser } = await launch());
  }, 120_000);

  afterAll(async () => {
    await closeBrowser?.();
    await new Promise((resolve) => server?.close(resolve));
    await provider?.close();
    if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
  });

  /** A new tab (its own sessionStorage, so no sign-in is carried over) at the console's sign-in page. */
  const openSignIn = async (): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(`${origin}/console/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByLabel('Operator token').count(), 'OIDC mode asks for no token').toBe(0);
    return page;
  };

  it('signs in through the identity provider (authorization code with PKCE, S256) and shows the data', async () => {
    const page = await openSignIn();
    const dataCalls: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/admin/')) dataCalls.push(r.headers().authorization ?? '');
    });
    const before = provider.exchanges.length;
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    await page.locator('table.rules tbody tr').first().waitFor();

    const authorize = provider.authorizations.at(-1)!;
    expect(authorize).toMatchObject({ client_id: CLIENT_ID, response_type: 'code', code_challenge_method: 'S256', redirect_uri: `${origin}/console/` });
    const exchanges = provider.exchanges.slice(before);
    expect(exchanges).toEqual([{ verified: true, accessToken: expect.any(String) }]);
    // Every data call carried the access token in the header; nothing went into a cookie or the address bar.
    expect(dataCalls.length).toBeGreaterThan(0);
    for (const h of dataCalls) expect(h).toBe(`Bearer ${exchanges[0]!.accessToken}`);
    expect(await context.cookies()).toEqual([]);
    expect(page.url()).not.toMatch(/[?&](code|state)=/);
    await page.close();
  });

  it('the provider exchanges a code only once and only for the verifier of its challenge', async () => {
    const verifier = 'a'.repeat(43);
    const challenge = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))).toString('base64url');
    const authorize = async () => {
      const url = new URL(`${provider.issuer}/authorize`);
      for (const [k, v] of Object.entries({ client_id: CLIENT_ID, redirect_uri: `${origin}/console/`, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 's' })) {
        url.searchParams.set(k, v);
      }
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      return new URL(res.headers.get('location')!).searchParams.get('code')!;
    };
    const exchange = (code: string, codeVerifier: string) =>
      fetch(`${provider.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, client_id: CLIENT_ID, redirect_uri: `${origin}/console/` }),
      });
    expect((await exchange(await authorize(), 'b'.repeat(43))).status).toBe(400);
    const code = await authorize();
    expect((await exchange(code, verifier)).status).toBe(200);
    expect((await exchange(code, verifier)).status).toBe(400);
  });

  it('refuses a signed-in user whose token lacks the admin role: no data, the reason shown', async () => {
    provider.roles = ['cds-viewer'];
    try {
      const page = await openSignIn();
      const before = provider.exchanges.length;
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByTestId('refusal').textContent().catch(() => '')).toContain('does not carry the admin role');
      expect(provider.exchanges.slice(before)).toEqual([{ verified: true, accessToken: expect.any(String) }]);
      expect(await page.locator('nav').count()).toBe(0);
      expect(await page.locator('table.rules').count()).toBe(0);
      // The service itself refuses that token, whoever presents it.
      const res = await fetch(`${origin}/analytics/rules`, { headers: { authorization: `Bearer ${provider.exchanges.at(-1)!.accessToken}` } });
      expect(res.status).toBe(403);
      await page.close();
    } finally {
      provider.roles = ['cds-admin'];
    }
  });
});
