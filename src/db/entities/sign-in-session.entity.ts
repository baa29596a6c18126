import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { User } from './user.entity.ts';

/** Why a session ended: the user signed out, one of its refresh tokens was presented twice, or the password was reset or changed. */
export type SessionEnd = 'signed_out' | 'token_reused' | 'password_reset' | 'password_changed';

/**
 * One sign-in: the family of refresh tokens rotated from it, and the `sid` of every access token
 * they issue. Its end is a state of this row, and every path that issues a token for the session
 * (refresh, switch-context) locks the row and reads that state first, so a token can never be
 * issued after the end commits, whatever races it.
 */
export class SignInSession {
  id: string = randomUUID();
  user: User;
  createdAt: Date = new Date();
  endedAt: Date | null = null;
  endedBy: SessionEnd | null = null;

  constructor(user: User) {
    this.user = user;
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
  },
});
