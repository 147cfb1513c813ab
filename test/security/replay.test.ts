import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { replayCapacity } from '../../src/stores/memory/replay-cache.js';
import { BASE, makeAuthApp, newKey, signToken, type TestKey } from './security-helpers.js';

/**
 * Issue 16, medium 4: the jti was remembered before the rate limiter ran, so a second client answered
 * 429 pushed 100,100 tokens through the replay cache in 35 s, evicted the first client's jti, and that
 * client's captured token was then accepted again.
 */

const A = 'https://ehr-a.example.org';
const B = 'https://ehr-b.example.org';
const DISCOVERY = '/cds-services';

async function clients() {
  const [a, b] = [await newKey('ES256', 'a-key'), await newKey('ES256', 'b-key')];
  const entry = (iss: string, key: TestKey) => ({ iss, jwks: { keys: [key.publicJwk] }, fhirServers: [] });
  return { a, b, list: [entry(A, a), entry(B, b)] };
}

const token = (key: TestKey, iss: string) => signToken(key, { iss, aud: `${BASE}${DISCOVERY}` });
const call = (app: Parameters<typeof request>[0], jwt: string) => request(app).get(DISCOVERY).set('Authorization', `Bearer ${jwt}`);

describe('replay protection under load from another client', () => {
  it("another client's refused (429) requests do not flush a captured token's jti", async () => {
    const { a, b, list } = await clients();
    // The smallest cache the configuration allows, so that before the fix 200 requests were enough to evict.
    const { app } = await makeAuthApp(list, { RATE_LIMIT_PER_MINUTE: 5, JTI_CACHE_MAX: 100 });
    const captured = await token(a, A);
    expect((await call(app, captured)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await call(app, await token(b, B))).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(195);
    const replay = await call(app, captured);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ reason: 'replayed-jti' });
  }, 60_000);

  it("one client's accepted tokens cannot evict another client's jti (one partition per issuer)", async () => {
    const { a, b, list } = await clients();
    const { app } = await makeAuthApp(list, { RATE_LIMIT_PER_MINUTE: 10_000, JTI_CACHE_MAX: 100 });
    const captured = await token(a, A);
    expect((await call(app, captured)).status).toBe(200);
    for (let i = 0; i < 150; i++) expect((await call(app, await token(b, B))).status).toBe(200);
    expect((await call(app, captured)).body).toMatchObject({ reason: 'replayed-jti' });
  }, 60_000);

  it('is sized from the token lifetime and the rate limit (docs/security.md)', () => {
    // a jti lives up to lifetime + 2 × skew = 720 s, which touches at most 13 one-minute windows of 600
    expect(replayCapacity({ ratePerMinute: 600, maxLifetimeS: 600, clockSkewS: 60 })).toBe(7_800);
    expect(loadConfig({ CDS_AUTH: 'off' }).JTI_CACHE_MAX).toBe(7_800);
    expect(loadConfig({ CDS_AUTH: 'off', RATE_LIMIT_PER_MINUTE: '60', JWT_MAX_LIFETIME_S: '300', JWT_CLOCK_SKEW_S: '0' }).JTI_CACHE_MAX).toBe(360);
    expect(loadConfig({ CDS_AUTH: 'off', JTI_CACHE_MAX: '20000' }).JTI_CACHE_MAX).toBe(20_000);
  });
});
