import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { JtiStore } from '../ports.js';

/**
 * Remembers the `jti` of every accepted client JWT until that token expires, so the same token
 * cannot be used twice. One partition per issuer, each bounded to `perIssuer` live entries: one
 * client's traffic can never evict another client's jtis (issue 16). Only verified tokens reach it,
 * so the issuers are the configured clients. `perIssuer` comes from the token lifetime and the rate
 * limit (replayCapacity), so a client within its rate limit never evicts its own live entries either.
 * In-memory and per process; the shared store adds the cross-replica check (docs/security.md).
 */
export class ReplayCache implements JtiStore {
  private readonly byIssuer = new Map<string, LRUCache<string, true>>();

  constructor(
    private readonly perIssuer: number,
    private readonly now: () => Date,
  ) {}

  /** Records the token; false when the same issuer's `jti` is still remembered (a replay). */
  async remember(iss: string, jti: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    let seen = this.byIssuer.get(iss);
    if (!seen) {
      seen = new LRUCache<string, true>({ max: this.perIssuer, perf: { now: () => this.now().getTime() } });
      this.byIssuer.set(iss, seen);
    }
    // A digest: a jti may be up to a token's length (8 kB); 32 bytes is all the check needs.
    const key = createHash('sha256').update(jti).digest('base64');
    if (seen.has(key)) return false;
    seen.set(key, true, { ttl: Math.max(1, expiresAtMs - nowMs) });
    return true;
  }
}

/**
 * jtis one issuer can have live at once: it is held until `exp` + skew, and `exp` can be up to
 * lifetime + skew after acceptance (iat may be skew ahead), so a jti lives at most lifetime + 2 × skew
 * seconds. The rate limiter's fixed one-minute windows admit `ratePerMinute` each, and that span
 * touches at most ceil(span / 60) + 1 windows. Defaults: 600 × (ceil(720 / 60) + 1) = 7,800.
 */
export function replayCapacity(limits: { ratePerMinute: number; maxLifetimeS: number; clockSkewS: number }): number {
  const spanS = limits.maxLifetimeS + 2 * limits.clockSkewS;
  return limits.ratePerMinute * (Math.ceil(spanS / 60) + 1);
}
