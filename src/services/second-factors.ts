import { randomInt } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Secret, TOTP } from 'otpauth';
import { appendSubjectAuditEvent, userActor } from '../audit/audit-log.ts';
import type { MfaEnrolments } from '../authz/mfa-enrolments.ts';
import type { User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, Forbidden, TooManyRequests, Unauthenticated, ValidationFailed } from '../errors.ts';
import type { Seals } from './seals.ts';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';

/** RFC 6238 as every authenticator app reads it: SHA-1, six digits, 30-second steps. */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** A code of the step before or after the current one is accepted too (clock drift). */
const DRIFT_STEPS = 1;
const RECOVERY_CODES = 10;
/** How long a login's challenge waits for its code, and how many wrong codes it takes. */
export const CHALLENGE_TTL_SECONDS = 300;
const CHALLENGE_TRIES = 5;

/** What a login of an account with a factor answers instead of a session. */
export interface MfaChallenge {
  challengeToken: string;
  expiresIn: number;
}

export interface TotpEnrolment {
  secret: string;
  uri: string;
}

export interface MfaStatus {
  totpEnabled: boolean;
  recoveryCodesLeft: number;
}

export interface SecondFactorLimits {
  issuer: string;
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
}

/** Which kind of code proved the second factor. */
export type SecondFactorUsed = 'totp' | 'recovery_code';

interface FactorRow {
  sealed_secret: string;
  confirmed_at: Date | null;
}

/**
 * TOTP second factors (RFC 6238, with `otpauth`) and their recovery codes. A secret is stored
 * sealed (AES-256-GCM under a key derived from the server secret, bound to its user); a code is
 * accepted once: the step it belongs to is claimed in the factor's row, so the same code (or an
 * older one) is refused afterwards on every instance. Recovery codes are single-use and stored as
 * SHA-256. Every wrong code counts against the account and the client address (429 past either
 * limit within the window), and a login's challenge takes at most five.
 */
export class SecondFactors {
  private readonly orm: Orm;
  private readonly seals: Seals;
  private readonly limits: SecondFactorLimits;
  private readonly enrolments: MfaEnrolments;

  constructor(orm: Orm, seals: Seals, limits: SecondFactorLimits, enrolments: MfaEnrolments) {
    this.orm = orm;
    this.seals = seals;
    this.limits = limits;
    this.enrolments = enrolments;
  }

  async status(userId: string): Promise<MfaStatus> {
    const em = this.orm.em.fork();
    const [row] = await em.execute<Array<{ enabled: boolean; left: string }>>(
      `select exists (select 1 from totp_factors where user_id = ? and confirmed_at is not null) as enabled,
              (select count(*) from recovery_codes where user_id = ? and used_at is null) as left`,
      [userId, userId],
    );
    return { totpEnabled: row?.enabled ?? false, recoveryCodesLeft: Number(row?.left ?? 0) };
  }

  /** A new secret, to be confirmed with a code; it replaces an unconfirmed one. 409 once a factor is confirmed. */
  async enrol(user: User): Promise<TotpEnrolment> {
    const secret = new Secret({ size: 20 });
    const updated = await this.orm.em.fork().execute<Array<{ user_id: string }>>(
      `insert into totp_factors (user_id, sealed_secret) values (?, ?)
       on conflict (user_id) do update set sealed_secret = excluded.sealed_secret, last_used_step = null, created_at = now()
         where totp_factors.confirmed_at is null
       returning user_id`,
      [user.id, this.seals.sealFactorSecret(secret.base32, user.id)],
    );
    if (updated.length === 0) throw new Conflict('A second factor is already enabled: disable it first to enrol another');
    return { secret: secret.base32, uri: this.totp(secret, user.email).toString() };
  }

  /**
   * Confirms an enrolment with a code of its secret; answers the ten recovery codes, shown only
   * now. From then on organizations that require a second factor grant the user their roles.
   */
  async confirm(user: User, code: string, clientAddress: string): Promise<string[]> {
    const outcome = await this.orm.em.transactional(async (em) => {
      await this.assertNotThrottled(em, user.id, clientAddress);
      const factor = await this.lockFactor(em, user.id);
      if (!factor || factor.confirmed_at) throw new Conflict('There is no enrolment waiting for a code: start one first');
      if (!(await this.claimTotp(em, user.id, factor, code))) {
        await this.recordFailure(em, user.id, clientAddress);
        return null;
      }
      await em.execute('update totp_factors set confirmed_at = now() where user_id = ?', [user.id]);
      await em.execute('delete from recovery_codes where user_id = ?', [user.id]);
      const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
      for (const recoveryCode of codes) {
        await em.execute('insert into recovery_codes (id, user_id, code_hash) values (gen_random_uuid(), ?, ?)', [user.id, hashSecretToken(normalized(recoveryCode))]);
      }
      await appendSubjectAuditEvent(em, { actor: userActor(user.id), action: 'user.mfa_enabled', target: { type: 'user', id: user.id } });
      return { codes, pending: await this.enrolments.enrolWithin(em, user.id) };
    });
    // Thrown after the commit, so the failure stays counted.
    if (!outcome) throw new ValidationFailed([{ field: 'body.code', message: 'is not a current code of the enrolled secret' }]);
    await this.enrolments.deliver(outcome.pending, user.id);
    return outcome.codes;
  }

  /** Removes the factor and its recovery codes, proven with a code of it (403 if wrong, counted like a confirmation's or a challenge's). */
  async disable(user: User, code: string, clientAddress: string): Promise<void> {
    const outcome = await this.orm.em.transactional(async (em) => {
      await this.assertNotThrottled(em, user.id, clientAddress);
      const factor = await this.lockFactor(em, user.id);
      if (!factor?.confirmed_at) return 'none' as const;
      if (!(await this.proves(em, user.id, factor, code))) {
        await this.recordFailure(em, user.id, clientAddress);
        return 'wrong' as const;
      }
      await em.execute('delete from recovery_codes where user_id = ?', [user.id]);
      await em.execute('delete from totp_factors where user_id = ?', [user.id]);
      await this.enrolments.withdrawBeforeCommit(em, user.id);
      await appendSubjectAuditEvent(em, { actor: userActor(user.id), action: 'user.mfa_disabled', target: { type: 'user', id: user.id } });
      return 'disabled' as const;
    });
    if (outcome === 'none') throw new Conflict('No second factor is enabled');
    if (outcome === 'wrong') throw new Forbidden('The code is wrong, or was already used');
  }

  /** The challenge a login of this user must answer with a code; null when the user has no confirmed factor. */
  async challengeFor(user: User): Promise<MfaChallenge | null> {
    const em = this.orm.em.fork();
    const [factor] = await em.execute<Array<{ user_id: string }>>('select user_id from totp_factors where user_id = ? and confirmed_at is not null', [user.id]);
    if (!factor) return null;
    const challengeToken = newSecretToken();
    // The user's spent challenges go as new ones come: the table holds about one row per recent login.
    await em.execute('delete from mfa_challenges where user_id = ? and (used_at is not null or expires_at < now())', [user.id]);
    await em.execute(
      `insert into mfa_challenges (id, token_hash, user_id, expires_at) values (gen_random_uuid(), ?, ?, now() + make_interval(secs => ?))`,
      [hashSecretToken(challengeToken), user.id, CHALLENGE_TTL_SECONDS],
    );
    return { challengeToken, expiresIn: CHALLENGE_TTL_SECONDS };
  }

  /**
   * Completes a login's challenge with a TOTP code or a recovery code: answers the user's id and
   * the kind of code once, and spends the challenge. An unknown, expired, used or exhausted
   * challenge and a wrong code answer 401; the failure is kept (committed) before the answer.
   */
  async completeChallenge(challengeToken: string, code: string, clientAddress: string): Promise<{ userId: string; used: SecondFactorUsed }> {
    const outcome = await this.orm.em.transactional(async (em): Promise<{ rejected: string } | { userId: string; used: SecondFactorUsed }> => {
      const [challenge] = await em.execute<Array<{ id: string; user_id: string; failures: number }>>(
        `select id, user_id, failures from mfa_challenges
          where token_hash = ? and used_at is null and expires_at > now() and failures < ? for update`,
        [hashSecretToken(challengeToken), CHALLENGE_TRIES],
      );
      if (!challenge) return { rejected: 'The challenge is invalid or expired: sign in again' };
      await this.assertNotThrottled(em, challenge.user_id, clientAddress);
      const factor = await this.lockFactor(em, challenge.user_id);
      const used = factor?.confirmed_at ? await this.proves(em, challenge.user_id, factor, code) : null;
      if (!used) {
        await em.execute('update mfa_challenges set failures = failures + 1 where id = ?', [challenge.id]);
        await this.recordFailure(em, challenge.user_id, clientAddress);
        return { rejected: 'The code is wrong, or was already used' };
      }
      await em.execute('update mfa_challenges set used_at = now() where id = ?', [challenge.id]);
      return { userId: challenge.user_id, used };
    });
    if ('rejected' in outcome) throw new Unauthenticated(outcome.rejected);
    return outcome;
  }

  /** Which kind of code `code` is and proves, claiming it (a TOTP step, or a recovery code), or null. */
  private async proves(em: EntityManager, userId: string, factor: FactorRow, code: string): Promise<SecondFactorUsed | null> {
    if (/^\d{6}$/.test(code)) return (await this.claimTotp(em, userId, factor, code)) ? 'totp' : null;
    const spent = await em.execute<Array<{ id: string }>>(
      'update recovery_codes set used_at = now() where user_id = ? and code_hash = ? and used_at is null returning id',
      [userId, hashSecretToken(normalized(code))],
    );
    return spent.length > 0 ? 'recovery_code' : null;
  }

  /**
   * Whether `code` belongs to a step within the drift window later than the last one used, which
   * it then claims in the same statement: a code is good once, on every instance.
   */
  private async claimTotp(em: EntityManager, userId: string, factor: FactorRow, code: string): Promise<boolean> {
    const base32 = this.seals.openFactorSecret(factor.sealed_secret, userId);
    if (!base32) throw new Error(`The second factor of user ${userId} cannot be opened with this server secret`);
    const now = Date.now();
    const delta = this.totp(Secret.fromBase32(base32)).validate({ token: code, timestamp: now, window: DRIFT_STEPS });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
    const claimed = await em.execute<Array<{ user_id: string }>>(
      `update totp_factors set last_used_step = ? where user_id = ? and (last_used_step is null or last_used_step < ?) returning user_id`,
      [step, userId, step],
    );
    return claimed.length > 0;
  }

  /** The label names the account in the authenticator app; it takes no part in the codes. */
  private totp(secret: Secret, label = 'account'): TOTP {
    return new TOTP({ issuer: this.limits.issuer, label, secret, digits: DIGITS, period: PERIOD_SECONDS, algorithm: 'SHA1' });
  }

  private async lockFactor(em: EntityManager, userId: string): Promise<FactorRow | undefined> {
    const [factor] = await em.execute<FactorRow[]>('select sealed_secret, confirmed_at from totp_factors where user_id = ? for update', [userId]);
    return factor;
  }

  /** 429 while the account, or the address, has made too many wrong codes within the window. */
  private async assertNotThrottled(em: EntityManager, userId: string, clientAddress: string): Promise<void> {
    const [counts] = await em.execute<Array<{ by_account: string; by_address: string }>>(
      `select (select count(*) from mfa_failures where user_id = ? and failed_at > now() - make_interval(secs => ?)) as by_account,
              (select count(*) from mfa_failures where client_address = ? and failed_at > now() - make_interval(secs => ?)) as by_address`,
      [userId, this.limits.windowSeconds, clientAddress, this.limits.windowSeconds],
    );
    if (Number(counts?.by_account) >= this.limits.maxFailuresPerAccount || Number(counts?.by_address) >= this.limits.maxFailuresPerAddress) {
      throw new TooManyRequests('Too many wrong codes: wait before trying again', this.limits.windowSeconds);
    }
  }

  /** Failures past the window no longer count, and go as the account makes new ones. */
  private async recordFailure(em: EntityManager, userId: string, clientAddress: string): Promise<void> {
    await em.execute('delete from mfa_failures where user_id = ? and failed_at < now() - make_interval(secs => ?)', [userId, this.limits.windowSeconds]);
    await em.execute('insert into mfa_failures (user_id, client_address) values (?, ?)', [userId, clientAddress.slice(0, 64)]);
  }
}

/** Whether the user has a confirmed second factor (what `mfa_registry:enrolled` records in SpiceDB). */
export async function hasConfirmedFactor(em: EntityManager, userId: string): Promise<boolean> {
  const rows = await em.execute<Array<{ user_id: string }>>('select user_id from totp_factors where user_id = ? and confirmed_at is not null', [userId]);
  return rows.length > 0;
}

/** No 0/o, 1/i/l: nothing to misread. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten characters of a 31-letter alphabet (49 bits), shown as `xxxxx-xxxxx`. */
function newRecoveryCode(): string {
  const letters = Array.from({ length: 10 }, () => RECOVERY_ALPHABET.charAt(randomInt(RECOVERY_ALPHABET.length))).join('');
  return `${letters.slice(0, 5)}-${letters.slice(5)}`;
}

/** What a person types: case, spaces and dashes do not matter. */
function normalized(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}
