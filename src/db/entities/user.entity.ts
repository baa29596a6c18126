import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';

export class User {
  id: string = randomUUID();
  username: string;
  /** Stored lower-cased, so the unique index compares addresses case-insensitively. */
  email: string;
  passwordHash: string;
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
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
