import { User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { TooManyRequests } from '../errors.ts';
import { deviceKey, type KnownClients, type Recognition, type SignInClient } from './known-clients.ts';
import type { LoginThrottle, PendingAttempt } from './login-throttle.ts';
import type { HashingLane, HashingTicket, PasswordHasher } from './password-hasher.ts';

/** Whoever holds a full share is told to retry about when one of its checks is done. */
const SHARE_RETRY_SECONDS = 1;

export interface SignInShares {
  /** Password checks one account may have running or waiting at once, in each hashing lane. */
  perAccount: number;
  /** Password checks (logins and signups) one client address may have running or waiting at once. */
  perAddress: number;
}

/** A login let through the gate, holding its place in the hashing queue until `release`. */
export interface LoginAttempt {
  /** The account of the email, if there is one, with its password hash. */
  user: User | null;
  ticket: HashingTicket;
  /** The password was wrong: the attempt stays counted as a failure. */
  failed(): Promise<void>;
  /** The password was never checked (the hasher failed): nothing is counted. */
  withdraw(): Promise<void>;
  /** The password was right: the attempt is no failure and the client is remembered. Answers its device token. */
  succeeded(user: User): Promise<string>;
  /** Frees the attempt's places in the queue and in its shares. */
  release(): void;
}

/**
 * What a sign-in passes before it may hash a password, cheapest first, so nothing a client sends
 * can take hashing from others:
 * 1. its address's share of this instance's checks (429 at once, in memory);
 * 2. whether the account knows the client (one indexed read, or a recent answer), which picks the hashing lane;
 * 3. the account's share in that lane (429 at once, in memory), so a flood aimed at one account
 *    holds a few places and its owner's own client keeps a share beside it;
 * 4. whether the lane has room (503 at once);
 * 5. the throttle's buckets in Postgres (429), under the account's and address's locks;
 * and only then a place in the hashing queue, taken in the same transaction that records the attempt.
 */
export class SignInGate {
  private readonly orm: Orm;
  private readonly hasher: PasswordHasher;
  private readonly throttle: LoginThrottle;
  private readonly known: KnownClients;
  private readonly shares: SignInShares;
  private readonly inFlight = new Map<string, number>();

  constructor(orm: Orm, hasher: PasswordHasher, throttle: LoginThrottle, known: KnownClients, shares: SignInShares) {
    this.orm = orm;
    this.hasher = hasher;
    this.throttle = throttle;
    this.known = known;
    this.shares = shares;
  }

  async admitLogin(email: string, client: SignInClient): Promise<LoginAttempt> {
    const account = email.toLowerCase();
    const device = deviceKey(client.deviceToken);
    const holds: Array<() => void> = [];
    let ticket: HashingTicket | undefined;
    const release = () => {
      ticket?.release();
      for (const hold of holds.splice(0)) hold();
    };
    try {
      holds.push(this.take(`address:${client.address}`, this.shares.perAddress, 'Too many sign-ins from this address are being checked; retry shortly'));
      const lane = laneOf(await this.known.recognizeSoon(this.orm.em, account, client.address, device));
      holds.push(this.take(`${lane}:${account}`, this.shares.perAccount, 'Too many sign-ins for this account are being checked; retry shortly'));
      this.hasher.assertRoom(lane);
      const admitted = await this.throttle.inTurn(account, client.address, () =>
        this.orm.em.transactional(async (em) => {
          await this.throttle.serialize(em, account, client.address, device);
          await this.throttle.assertAllowed(em, account, client.address, device, await this.known.recognize(em, account, client.address, device));
          // The throttle has decided: only now does the attempt take a place in the hashing queue.
          ticket = this.hasher.admit(lane);
          const pending = await this.throttle.recordAttempt(em, account, client.address, device);
          const user = await em.findOne(User, { email: account }, { populate: ['passwordHash'] });
          return { user, pending, ticket };
        }),
      );
      return this.attempt(account, client, admitted.user, admitted.ticket, admitted.pending, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** A signup from this address may go on (429 past its share of checks, or of signups in the window); call the answer when done. */
  async admitSignup(client: SignInClient): Promise<() => void> {
    const release = this.take(`address:${client.address}`, this.shares.perAddress, 'Too many sign-ins from this address are being checked; retry shortly');
    try {
      await this.orm.em.transactional((em) => this.throttle.countSignup(em, client.address));
      return release;
    } catch (error) {
      release();
      throw error;
    }
  }

  /** After a successful sign-in: the client is known to the account from now on. Answers its device token. */
  remember(user: User, client: SignInClient): Promise<string> {
    return this.orm.em.transactional((em) => this.known.remember(em, user, client));
  }

  private attempt(
    account: string,
    client: SignInClient,
    user: User | null,
    ticket: HashingTicket,
    pending: PendingAttempt,
    release: () => void,
  ): LoginAttempt {
    return {
      user,
      ticket,
      failed: () => this.throttle.failed(this.orm.em, pending),
      withdraw: () => this.throttle.withdraw(this.orm.em, pending),
      succeeded: async (signedIn) => {
        await this.throttle.succeeded(this.orm.em, account, client.address, pending);
        return this.remember(signedIn, client);
      },
      release,
    };
  }

  /** One of `limit` places for the key on this instance, or 429 at once; the answer gives it back. */
  private take(key: string, limit: number, detail: string): () => void {
    const held = this.inFlight.get(key) ?? 0;
    if (held >= limit) throw new TooManyRequests(detail, SHARE_RETRY_SECONDS);
    this.inFlight.set(key, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    };
  }
}

function laneOf(known: Recognition): HashingLane {
  return known.byAddress || known.byDevice ? 'recognized' : 'open';
}
