import { randomUUID } from 'node:crypto';
import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'users' })
export class User {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 32, unique: true })
  username: string;

  /** Stored lower-cased, so the unique index compares addresses case-insensitively. */
  @Property({ type: 'string', length: 320, unique: true })
  email: string;

  @Property({ type: 'string', length: 255, lazy: true, hidden: true })
  passwordHash: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  constructor(username: string, email: string, passwordHash: string) {
    this.username = username;
    this.email = email.toLowerCase();
    this.passwordHash = passwordHash;
  }
}
