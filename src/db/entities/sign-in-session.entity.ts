import { randomUUID } from 'node:crypto';
import { ArrayType, EntitySchema } from '@mikro-orm/core';
import { User } from './user.entity.ts';

/**
 * Why a session ended: the user signed out, one of its refresh tokens was presented twice, the
 * password was reset or changed, the user ended it from another session (DELETE
 * /auth/me/sessions/{id}), or deleted the account.
 */
export type SessionEnd = 'signed_out' | 'token_reused' | 'password_reset' | 'password_changed' | 'ended_by_user' | 'account_deleted';

/**
 * One sign-in: the family of refresh tokens rotated from it, and the `sid` of every access token
 * they issue. Its end is a state of this row, and every path that issues a token for the session
 * (refresh, switch-context) locks the row and reads that state first, so a token can never be
 * issued after the end commits, whatever races it.
 */
/** Where a sign-in or a refresh came from (the request's metadata). */
export interface SessionClient {
  clientAddress: string | null;
  userAgent: string | null;
}

export class SignInSession {
  id: string = randomUUID();
  user: User;
  createdAt: Date = new Date();
  endedAt: Date | null = null;
  endedBy: SessionEnd | null = null;
  /** The sign-in, or the newest refresh: when the session was last used to issue tokens, and from where. */
  lastUsedAt: Date = new Date();
  clientAddress: string | null;
  userAgent: string | null;
  /** How the user proved who they are at this sign-in (RFC 8176 values): the `amr` claim of its tokens. */
  amr: string[];

  constructor(user: User, client: SessionClient, amr: string[]) {
    this.user = user;
    this.amr = amr;
    this.clientAddress = client.clientAddress;
    this.userAgent = client.userAgent;
  }
}

export const SignInSessionSchema = new EntitySchema<SignInSession>({
  class: SignInSession,
  tableName: 'sign_in_sessions',
  properties: {
    id: { type: 'uuid', primary: true },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', index: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    endedAt: { type: 'datetime', nullable: true },
    endedBy: { type: 'string', length: 16, nullable: true },
    lastUsedAt: { type: 'datetime', defaultRaw: 'now()' },
    clientAddress: { type: 'string', length: 64, nullable: true },
    userAgent: { type: 'string', length: 256, nullable: true },
    amr: { type: ArrayType },
  },
});
