import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { SignInSession } from './sign-in-session.entity.ts';
import { User } from './user.entity.ts';

/**
 * An opaque, single-use refresh token, stored as a SHA-256 hash. Each refresh rotates it within
 * its family (its sign-in session, `SignInSession`); presenting a used one means it leaked, so the
 * whole session ends. Whether a token may still be used is the session's state, not the token's.
 */
export class RefreshToken {
  id: string = randomUUID();
  tokenHash: string;
  /** Its family: the sign-in session, whose id is the `sid` of its access tokens. */
  session: SignInSession;
  user: User;
  /** The context the access tokens of this family carry (switch-context changes it). */
  organizationId: string | null;
  workspaceId: string | null;
  expiresAt: Date;
  usedAt: Date | null = null;
  createdAt: Date = new Date();

  constructor(init: {
    tokenHash: string;
    /** Its family: the sign-in session, whose id is the `sid` of its access tokens. */
  session: SignInSession;
    user: User;
    organizationId: string | null;
    workspaceId: string | null;
    expiresAt: Date;
  }) {
    this.tokenHash = init.tokenHash;
    this.session = init.session;
    this.user = init.user;
    this.organizationId = init.organizationId;
    this.workspaceId = init.workspaceId;
    this.expiresAt = init.expiresAt;
  }
}

export const RefreshTokenSchema = new EntitySchema<RefreshToken>({
  class: RefreshToken,
  tableName: 'refresh_tokens',
  properties: {
    id: { type: 'uuid', primary: true },
    tokenHash: { type: 'string', length: 64, unique: true },
    session: { kind: 'm:1', entity: () => SignInSession, fieldName: 'family_id', deleteRule: 'cascade', index: true },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', index: true },
    organizationId: { type: 'uuid', nullable: true },
    workspaceId: { type: 'uuid', nullable: true },
    expiresAt: { type: 'datetime' },
    usedAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
