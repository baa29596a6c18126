import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.ts';
import { LoginFailure } from '../db/entities/index.ts';
import { TooManyRequests } from '../errors.ts';

/** What an attempt recorded before its password was checked, so a right password can take it back. */
export interface PendingAttempt {
  ids: string[];
}

/** An attempt still being checked is counted; who waits on one is told to retry shortly. */
const IN_FLIGHT_RETRY_SECONDS = 1;

/**
 * Failed logins in Postgres (so limits hold across instances), in three buckets, after OWASP:
 * - per (account, address), a low limit: one guesser at one account;
 * - per account across all addresses, a higher limit: a distributed guesser. A stranger's failures
 *   never lock the owner out below it, since the owner's own address has no failures;
 * - per address across all accounts, failures only: password spraying. A correct login from that
 *   address does not count, so a busy NAT address is not locked by its own users.
 * Over a limit, logins answer 429 until the oldest counted failure leaves the window.
 */
export class LoginThrottle {
  private readonly limits: Config['loginThrottle'];
  /**
   * In-process queues per subject: attempts for one account or one address wait here, holding no
   * pooled connection, and only the head takes the advisory lock (which orders them across instances).
   */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(limits: Config['loginThrottle']) {
    this.limits = limits;
  }

  /** Runs `work` once this instance's earlier attempts for the same account and address are done. */
  async inTurn<T>(email: string, clientAddress: string, work: () => Promise<T>): Promise<T> {
    const keys = [accountSubject(email), addressSubject(clientAddress)].sort();
    const previous = keys.map((key) => this.queues.get(key) ?? Promise.resolve());
    let done = () => {};
    const mine = new Promise<void>((resolve) => (done = resolve));
    for (const key of keys) this.queues.set(key, mine);
    await Promise.all(previous);
    try {
      return await work();
    } finally {
      done();
      for (const key of keys) if (this.queues.get(key) === mine) this.queues.delete(key);
    }
  }

  /** Transaction-scoped advisory locks on the counters, taken in a fixed order (no deadlock). */
  async serialize(em: EntityManager, email: string, clientAddress: string): Promise<void> {
    for (const subject of [accountSubject(email), addressSubject(clientAddress)].sort()) {
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [subject]);
    }
  }

  async assertAllowed(em: EntityManager, email: string, clientAddress: string): Promise<void> {
    const windowStart = new Date(Date.now() - this.limits.windowSeconds * 1000);
    const checks: Array<[string, number]> = [
      [pairSubject(email, clientAddress), this.limits.maxFailuresPerAccountAndAddress],
      [accountSubject(email), this.limits.maxFailuresPerAccount],
      [addressSubject(clientAddress), this.limits.maxFailuresPerAddress],
    ];
    for (const [subject, limit] of checks) {
      const recent = await em.find(
        LoginFailure,
        { subject, failedAt: { $gte: windowStart } },
        { orderBy: { failedAt: 'desc' }, limit, fields: ['failedAt', 'settled'] },
      );
      const oldestCounted = recent[limit - 1];
      if (!oldestCounted) continue;
      const inFlight = recent.some((failure) => !failure.settled);
      const retryAfterSeconds = inFlight
        ? IN_FLIGHT_RETRY_SECONDS
        : (oldestCounted.failedAt.getTime() + this.limits.windowSeconds * 1000 - Date.now()) / 1000;
      throw new TooManyRequests('Too many failed logins; try again later', retryAfterSeconds);
    }
  }

  /** Counted as a failure in every bucket until `succeeded` takes it back. */
  async recordAttempt(em: EntityManager, email: string, clientAddress: string): Promise<PendingAttempt> {
    const rows = [pairSubject(email, clientAddress), accountSubject(email), addressSubject(clientAddress)].map(
      (subject) => new LoginFailure(subject, false),
    );
    em.persist(rows);
    await em.flush();
    // Keep the table to the window: failures older than it no longer count for anything.
    await em.nativeDelete(LoginFailure, { failedAt: { $lt: new Date(Date.now() - this.limits.windowSeconds * 1000) } });
    return { ids: rows.map((row) => row.id) };
  }

  /** The password was never checked (the hasher failed): the attempt is no failure. */
  async withdraw(em: EntityManager, attempt: PendingAttempt): Promise<void> {
    await em.nativeDelete(LoginFailure, { id: { $in: attempt.ids } });
  }

  /** The password was wrong: the attempt stays, as a failure. */
  async failed(em: EntityManager, attempt: PendingAttempt): Promise<void> {
    await em.nativeUpdate(LoginFailure, { id: { $in: attempt.ids } }, { settled: true });
  }

  /** The password was right: the attempt was no failure, and this address's failures for the account are forgotten. */
  async succeeded(em: EntityManager, email: string, clientAddress: string, attempt: PendingAttempt): Promise<void> {
    await em.nativeDelete(LoginFailure, { $or: [{ id: { $in: attempt.ids } }, { subject: pairSubject(email, clientAddress) }] });
  }
}

const accountSubject = (email: string) => `account:${email.toLowerCase()}`;
const addressSubject = (address: string) => `address:${address}`;
const pairSubject = (email: string, address: string) => `pair:${email.toLowerCase()} ${address}`;
