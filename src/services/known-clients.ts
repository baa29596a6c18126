import type { EntityManager } from '@mikro-orm/postgresql';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';

/** How a sign-in's client is known to the account: by the address it signed in from, or by a device token. */
export interface Recognition {
  byAddress: boolean;
  byDevice: boolean;
}

/** What the client of a sign-in says about itself: its address, and the device token an earlier sign-in gave it. */
export interface SignInClient {
  address: string;
  deviceToken?: string | undefined;
}

/** How long this instance reuses an answer of `recognizeSoon`. */
const ANSWER_TTL_MS = 10_000;
/** Accounts whose answers it keeps, and clients per account, at most: a flood of made-up emails, addresses or tokens cannot grow it without end. */
const MAX_ANSWERED_ACCOUNTS = 10_000;
const MAX_ANSWERED_CLIENTS = 1_000;

/** A device token is 43 characters of base64url; its SHA-256 is what is stored and counted. */
export function deviceKey(deviceToken: string | undefined): string | undefined {
  return deviceToken ? hashSecretToken(deviceToken) : undefined;
}

/**
 * The clients each account signed in from successfully (`known_clients`): its addresses, and the
 * device tokens it was given, each remembered for LOGIN_KNOWN_CLIENT_DAYS after its last success.
 * A device token is an opaque 256-bit secret handed out at each successful sign-in (signup, login)
 * and kept only as a SHA-256, like a refresh token; it proves nothing on its own (a password is
 * still needed) and only says "this client signed in to this account before", which the login
 * throttle and the hashing queue use to keep strangers' failures and floods from locking it out.
 */
export class KnownClients {
  private readonly rememberedMs: number;
  /** Recent answers of `recognizeSoon`, by account, then by client; bounded, oldest account dropped first. */
  private readonly answers = new Map<string, Map<string, { known: Recognition; until: number }>>();

  constructor(rememberedDays: number) {
    this.rememberedMs = rememberedDays * 24 * 3600 * 1000;
  }

  /**
   * `recognize`, answered from this instance's memory for ANSWER_TTL_MS after asking Postgres:
   * for choosing a hashing lane, where a flood that repeats its (account, address) must cost no
   * database round trip. A stale answer only misplaces an attempt in a lane (a client that signed
   * in on another instance moments ago hashes with strangers once); the throttle always asks
   * `recognize` itself, inside its transaction.
   */
  async recognizeSoon(em: EntityManager, email: string, address: string, device: string | undefined): Promise<Recognition> {
    const account = email.toLowerCase();
    const client = `${address} ${device ?? ''}`;
    const answer = this.answers.get(account)?.get(client);
    if (answer && answer.until > Date.now()) return answer.known;
    const known = await this.recognize(em, account, address, device);
    const byClient = this.answers.get(account) ?? new Map<string, { known: Recognition; until: number }>();
    byClient.set(client, { known, until: Date.now() + ANSWER_TTL_MS });
    if (byClient.size > MAX_ANSWERED_CLIENTS) byClient.delete(byClient.keys().next().value ?? '');
    this.answers.delete(account);
    this.answers.set(account, byClient);
    if (this.answers.size > MAX_ANSWERED_ACCOUNTS) this.answers.delete(this.answers.keys().next().value ?? '');
    return known;
  }

  /** Whether this address, or this device token, signed in to the account of this email lately. */
  async recognize(em: EntityManager, email: string, address: string, device: string | undefined): Promise<Recognition> {
    const rows = await em.execute<Array<{ kind: 'address' | 'device' }>>(
      `select k.kind from known_clients k join users u on u.id = k.user_id
        where u.email = ? and k.last_signed_in_at > ?
          and ((k.kind = 'address' and k.client = ?) or (k.kind = 'device' and k.client = ?))`,
      [email.toLowerCase(), this.oldestRemembered(), address, device ?? ''],
    );
    return { byAddress: rows.some((row) => row.kind === 'address'), byDevice: rows.some((row) => row.kind === 'device') };
  }

  /**
   * After a successful sign-in: the address is remembered, and so is the device token (the one the
   * client presented when it is this account's, else a new one). Answers the device token to give back.
   */
  async remember(em: EntityManager, user: { id: string; email: string }, client: SignInClient): Promise<string> {
    this.answers.delete(user.email);
    const userId = user.id;
    const presented = client.deviceToken && (await this.isDeviceOf(em, userId, client.deviceToken)) ? client.deviceToken : undefined;
    const deviceToken = presented ?? newSecretToken();
    await em.execute(
      `insert into known_clients (user_id, kind, client, last_signed_in_at) values (?, 'address', ?, now()), (?, 'device', ?, now())
       on conflict (user_id, kind, client) do update set last_signed_in_at = excluded.last_signed_in_at`,
      [userId, client.address, userId, hashSecretToken(deviceToken)],
    );
    await em.execute('delete from known_clients where user_id = ? and last_signed_in_at <= ?', [userId, this.oldestRemembered()]);
    return deviceToken;
  }

  private async isDeviceOf(em: EntityManager, userId: string, deviceToken: string): Promise<boolean> {
    const rows = await em.execute(
      `select 1 from known_clients where user_id = ? and kind = 'device' and client = ? and last_signed_in_at > ?`,
      [userId, hashSecretToken(deviceToken), this.oldestRemembered()],
    );
    return rows.length > 0;
  }

  private oldestRemembered(): Date {
    return new Date(Date.now() - this.rememberedMs);
  }
}
