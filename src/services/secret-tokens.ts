import { createHash, randomBytes } from 'node:crypto';

/**
 * Bearer secrets the service hands out once (refresh tokens, invitation tokens, service-account
 * keys): 256 random bits, stored only as a SHA-256. A fast hash is enough for that much entropy.
 */

export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
