import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { User } from './user.entity.ts';

/** What a mailed token lets its holder do. */
export type EmailTokenPurpose = 'verify_email' | 'reset_password';

/**
 * A single-use token mailed to `email`, stored only as its SHA-256. Used once (`usedAt`), expired,
 * or sent to an address the account no longer has: it answers exactly as an unknown token does.
 */
export class EmailToken {
  id: string = randomUUID();
  user: User;
  purpose: EmailTokenPurpose;
  tokenHash: string;
  email: string;
  createdAt: Date = new Date();
  expiresAt: Date;
  usedAt: Date | null = null;

  constructor(init: { user: User; purpose: EmailTokenPurpose; tokenHash: string; expiresAt: Date }) {
    this.user = init.user;
    this.purpose = init.purpose;
    this.tokenHash = init.tokenHash;
    this.email = init.user.email;
    this.expiresAt = init.expiresAt;
  }

  /** Open: unused, unexpired, and still for the account's current address. */
  isOpen(now = new Date()): boolean {
    return this.usedAt === null && this.expiresAt > now && this.email === this.user.email;
  }
}

export const EmailTokenSchema = new EntitySchema<EmailToken>({
  class: EmailToken,
  tableName: 'email_tokens',
  properties: {
    id: { type: 'uuid', primary: true },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade' },
    purpose: { type: 'string', length: 16 },
    tokenHash: { type: 'string', length: 64, unique: true },
    email: { type: 'string', length: 320 },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    expiresAt: { type: 'datetime' },
    usedAt: { type: 'datetime', nullable: true },
  },
});
