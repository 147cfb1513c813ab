import { LRUCache } from 'lru-cache';
import type { JtiStore } from '../ports.js';

/**
 * Remembers the `jti` of every accepted client JWT until that token expires, so the same token
 * cannot be used twice. Bounded: past `max` live entries the least recently seen is forgotten
 * (rate limiting keeps a client well below the default cap). In-memory, so each replica keeps its
 * own cache: replay protection is per process (docs/security.md).
 */
export class ReplayCache implements JtiStore {
  private readonly seen: LRUCache<string, true>;

  constructor(max: number, now: () => Date) {
    this.seen = new LRUCache<string, true>({ max, perf: { now: () => now().getTime() } });
  }

  /** Records the token; false when the same issuer's `jti` is still remembered (a replay). */
  async remember(iss: string, jti: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    const key = `${iss}\u0000${jti}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, true, { ttl: Math.max(1, expiresAtMs - nowMs) });
    return true;
  }
}
