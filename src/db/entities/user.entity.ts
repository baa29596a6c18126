import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';

export class User {
  id: string = randomUUID();
  username: string;
  /** Stored lower-cased, so the unique index compares addresses case-insensitively. */
  email: string;
  passwordHash: string;
  /**
   * When the account proved it reads its address; null until then. Invitations by email are shown
   * to and accepted by an account only once its address is proven (the mailed token proves it too).
   */
  emailVerifiedAt: Date | null = null;
  createdAt: Date = new Date();

  constructor(username: string, email: string, passwordHash: string) {
    this.username = username;
    this.email = email.toLowerCase();
    this.passwordHash = passwordHash;
  }
}

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true },
    username: { type: 'string', length: 32, unique: true },
    email: { type: 'string', length: 320, unique: true },
    passwordHash: { type: 'string', length: 255, lazy: true, hidden: true },
    emailVerifiedAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
