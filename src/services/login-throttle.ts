import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.ts';
import { LoginFailure } from '../db/entities/index.ts';
import { TooManyRequests } from '../errors.ts';
import type { Recognition } from './known-clients.ts';

/** What an attempt recorded before its password was checked, so a right password can take it back. */
export interface PendingAttempt {
  ids: string[];
}

/** An attempt still being checked is counted; who waits on one is told to retry shortly. */
const IN_FLIGHT_RETRY_SECONDS = 1;

/**
 * Failed logins in Postgres (so limits hold across instances), in buckets, after OWASP:
 * - per (account, address), a low limit: one guesser at one account;
 * - per account across all addresses, a higher limit: a distributed guesser. It stops only clients
 *   the account does not know: a client that signed in to it lately, from the same address or with
 *   a device token it was given then (src/services/known-clients.ts), is judged by its own buckets
 *   only, so strangers' failures from elsewhere can never lock the owner out;
 * - per device token, the low limit too: a stolen token buys no more guesses than one address, and
 *   past it the token no longer makes its holder known;
 * - per address across all accounts, failures only: password spraying. A correct login from that
 *   address does not count, so a busy NAT address is not locked by its own users.
 * Over a limit, logins answer 429 until the oldest counted failure leaves the window. Signups are
 * counted per address in the same window (every attempt, since each may cost a hash).
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
  async serialize(em: EntityManager, email: string, clientAddress: string, device: string | undefined): Promise<void> {
    const subjects = [accountSubject(email), addressSubject(clientAddress), ...(device ? [deviceSubject(device)] : [])];
    for (const subject of subjects.sort()) await lock(em, subject);
  }

  /** 429 if a bucket this attempt counts against is full; the account's own only for clients it does not know. */
  async assertAllowed(em: EntityManager, email: string, clientAddress: string, device: string | undefined, known: Recognition): Promise<void> {
    await this.assertUnder(em, pairSubject(email, clientAddress), this.limits.maxFailuresPerAccountAndAddress);
    const knownDevice = known.byDevice && device !== undefined && !(await this.isOver(em, deviceSubject(device), this.limits.maxFailuresPerAccountAndAddress));
    if (!known.byAddress && !knownDevice) await this.assertUnder(em, accountSubject(email), this.limits.maxFailuresPerAccount);
    await this.assertUnder(em, addressSubject(clientAddress), this.limits.maxFailuresPerAddress);
  }

  /** Counted as a failure in every bucket until `succeeded` takes it back. */
  async recordAttempt(em: EntityManager, email: string, clientAddress: string, device: string | undefined): Promise<PendingAttempt> {
    const subjects = [pairSubject(email, clientAddress), accountSubject(email), addressSubject(clientAddress), ...(device ? [deviceSubject(device)] : [])];
    return { ids: await this.record(em, subjects, false) };
  }

  /** One more signup from this address, or 429 when the address has had its share of the window. */
  async countSignup(em: EntityManager, clientAddress: string): Promise<void> {
    const subject = signupSubject(clientAddress);
    await lock(em, subject);
    await this.assertUnder(em, subject, this.limits.maxSignupsPerAddress, 'Too many signups from this address; try again later');
    await this.record(em, [subject], true);
  }

  /**
   * One more request against each subject (account mails asked for, mailed tokens presented), or
   * 429 when one has had its `limit` in the window. Locks in a fixed order, as `serialize` does.
   */
  async countRequests(em: EntityManager, counted: ReadonlyArray<{ subject: string; limit: number }>, detail: string): Promise<void> {
    const sorted = [...counted].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
    for (const { subject } of sorted) await lock(em, subject);
    for (const { subject, limit } of sorted) await this.assertUnder(em, subject, limit, detail);
    await this.record(em, sorted.map(({ subject }) => subject), true);
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

  private async assertUnder(em: EntityManager, subject: string, limit: number, detail = 'Too many failed logins; try again later'): Promise<void> {
    const retryAfterSeconds = await this.secondsUntilUnder(em, subject, limit);
    if (retryAfterSeconds !== undefined) throw new TooManyRequests(detail, retryAfterSeconds);
  }

  private async isOver(em: EntityManager, subject: string, limit: number): Promise<boolean> {
    return (await this.secondsUntilUnder(em, subject, limit)) !== undefined;
  }

  /** Undefined while the subject has fewer than `limit` rows in the window; else when it will. */
  private async secondsUntilUnder(em: EntityManager, subject: string, limit: number): Promise<number | undefined> {
    const recent = await em.find(
      LoginFailure,
      { subject, failedAt: { $gte: this.windowStart() } },
      { orderBy: { failedAt: 'desc' }, limit, fields: ['failedAt', 'settled'] },
    );
    const oldestCounted = recent[limit - 1];
    if (!oldestCounted) return undefined;
    if (recent.some((failure) => !failure.settled)) return IN_FLIGHT_RETRY_SECONDS;
    return (oldestCounted.failedAt.getTime() + this.limits.windowSeconds * 1000 - Date.now()) / 1000;
  }

  private async record(em: EntityManager, subjects: string[], settled: boolean): Promise<string[]> {
    const rows = subjects.map((subject) => new LoginFailure(subject, settled));
    em.persist(rows);
    await em.flush();
    // Keep the table to the window: rows older than it no longer count for anything.
    await em.nativeDelete(LoginFailure, { failedAt: { $lt: this.windowStart() } });
    return rows.map((row) => row.id);
  }

  private windowStart(): Date {
    return new Date(Date.now() - this.limits.windowSeconds * 1000);
  }
}

function lock(em: EntityManager, subject: string): Promise<unknown> {
  return em.execute('select pg_advisory_xact_lock(hashtext(?))', [subject]);
}

const accountSubject = (email: string) => `account:${email.toLowerCase()}`;
const addressSubject = (address: string) => `address:${address}`;
const pairSubject = (email: string, address: string) => `pair:${email.toLowerCase()} ${address}`;
const deviceSubject = (device: string) => `device:${device}`;
const signupSubject = (address: string) => `signup:${address}`;
