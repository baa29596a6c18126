import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.ts';
import { LoginFailure } from '../db/entities/index.ts';
import { TooManyRequests } from '../errors.ts';

/**
 * Counts failed logins per email address and per client address in Postgres, so the limit holds
 * across instances. Over the limit, logins answer 429 until the oldest failure in the window ages out.
 */
export class LoginThrottle {
  private readonly limits: Config['loginThrottle'];

  constructor(limits: Config['loginThrottle']) {
    this.limits = limits;
  }

  /** Transaction-scoped advisory locks on both counters, taken in a fixed order (no deadlock). */
  async serialize(em: EntityManager, email: string, clientAddress: string): Promise<void> {
    for (const subject of [emailSubject(email), addressSubject(clientAddress)].sort()) {
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [subject]);
    }
  }

  async assertAllowed(em: EntityManager, email: string, clientAddress: string): Promise<void> {
    const windowStart = new Date(Date.now() - this.limits.windowSeconds * 1000);
    const checks: Array<[string, number]> = [
      [emailSubject(email), this.limits.maxFailuresPerEmail],
      [addressSubject(clientAddress), this.limits.maxFailuresPerAddress],
    ];
    for (const [subject, limit] of checks) {
      const recent = await em.find(
        LoginFailure,
        { subject, failedAt: { $gte: windowStart } },
        { orderBy: { failedAt: 'desc' }, limit, fields: ['failedAt'] },
      );
      const oldestCounted = recent[limit - 1];
      if (oldestCounted) {
        const retryAfterSeconds = (oldestCounted.failedAt.getTime() + this.limits.windowSeconds * 1000 - Date.now()) / 1000;
        throw new TooManyRequests('Too many failed logins; try again later', retryAfterSeconds);
      }
    }
  }

  async recordFailure(em: EntityManager, email: string, clientAddress: string): Promise<void> {
    em.persist([new LoginFailure(emailSubject(email)), new LoginFailure(addressSubject(clientAddress))]);
    await em.flush();
    // Keep the table to the window: failures older than it no longer count for anything.
    await em.nativeDelete(LoginFailure, { failedAt: { $lt: new Date(Date.now() - this.limits.windowSeconds * 1000) } });
  }

  /** A successful login forgets the account's failures (not the address's). */
  async recordSuccess(em: EntityManager, email: string): Promise<void> {
    await em.nativeDelete(LoginFailure, { subject: emailSubject(email) });
  }
}

const emailSubject = (email: string) => `email:${email.toLowerCase()}`;
const addressSubject = (address: string) => `address:${address}`;
