import { EntitySchema } from '@mikro-orm/core';

/**
 * A message committed in the same transaction as what it announces (an invitation) and not yet
 * handed to the SMTP server. The mail relay claims rows with FOR UPDATE SKIP LOCKED, sends them,
 * and deletes them; a failed send is retried with backoff.
 */
export class MailOutboxEntry {
  /** Assigned by the database (bigserial) on insert. */
  declare id: string;
  invitationId: string | null;
  recipient: string;
  subject: string;
  text: string;
  html: string;
  attempts = 0;
  nextAttemptAt: Date = new Date();
  lastError: string | null = null;
  createdAt: Date = new Date();

  constructor(init: { invitationId: string | null; recipient: string; subject: string; text: string; html: string }) {
    this.invitationId = init.invitationId;
    this.recipient = init.recipient;
    this.subject = init.subject;
    this.text = init.text;
    this.html = init.html;
  }
}

export const MailOutboxEntrySchema = new EntitySchema<MailOutboxEntry>({
  class: MailOutboxEntry,
  tableName: 'mail_outbox',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    invitationId: { type: 'uuid', nullable: true, index: true },
    recipient: { type: 'string', length: 254 },
    subject: { type: 'text' },
    text: { type: 'text' },
    html: { type: 'text' },
    attempts: { type: 'integer', default: 0 },
    nextAttemptAt: { type: 'datetime', defaultRaw: 'now()', index: true },
    lastError: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
