import { createHash } from 'node:crypto';
import type { AccessTokenClaims } from './access-tokens.ts';

/**
 * Access tokens whose signature this process has verified, with their claims, until they expire:
 * a dashboard sends the same token with every click for its whole life, and verifying an ES256
 * signature costs more than the rest of a cached check. Safe because the key set a token was
 * verified with never changes while the process runs, and because nothing but the signature is
 * skipped: every request still asks whether the token's session has ended. Keyed by the token's
 * SHA-256, so the memo holds no credential; bounded, forgetting the oldest first.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, AccessTokenClaims>();
  private readonly capacity: number;
  private readonly toleranceMs: number;
  private readonly now: () => number;

  /** `toleranceMs`: how long past `exp` a token still verifies (jose's clock tolerance). */
  constructor(capacity: number, toleranceMs: number, now: () => number = Date.now) {
    this.capacity = capacity;
    this.toleranceMs = toleranceMs;
    this.now = now;
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  /** The claims of a token verified before and not yet expired; undefined otherwise. */
  recall(key: string): AccessTokenClaims | undefined {
    const claims = this.entries.get(key);
    if (!claims) return undefined;
    if (claims.expiresAt.getTime() + this.toleranceMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return claims;
  }

  remember(key: string, claims: AccessTokenClaims): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, claims);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
