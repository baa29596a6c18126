import type { EntityManager } from '@mikro-orm/postgresql';
import { PollLoop } from '../background/poll-loop.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import type { Handover, Mailer } from './mailer.ts';

interface ClaimedMessage {
  id: string;
  invitation_id: string | null;
  recipient: string;
  subject: string;
  text: string;
  html: string;
  attempts: number;
}

export interface MailRelayOptions {
  pollMs: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** After this many failed sends the message is dropped and its invitation reads delivery: failed. */
  maxAttempts: number;
}

const BATCH_SIZE = 20;

// SKIP LOCKED: several instances claim disjoint rows; a crash releases them for the next cycle.
const CLAIM_DUE_SQL = `
  select id, invitation_id, recipient, subject, text, html, attempts from mail_outbox
   where next_attempt_at <= now()
   order by id limit ?
     for update skip locked`;

/**
 * Sends the mail outbox: right after a commit that wrote to it (`kick`), and on a timer for what
 * failed, with exponential backoff while the SMTP server cannot take it. A message is deleted
 * once sent, so the token in its link does not outlive the delivery in our database.
 */
export class MailRelay {
  private readonly orm: Orm;
  private readonly mailer: Mailer;
  private readonly logger: Logger;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxAttempts: number;
  private readonly loop: PollLoop;

  constructor(orm: Orm, mailer: Mailer, logger: Logger, options: MailRelayOptions) {
    this.orm = orm;
    this.mailer = mailer;
    this.logger = logger;
    this.baseBackoffMs = options.baseBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
    this.maxAttempts = options.maxAttempts;
    this.loop = new PollLoop({
      name: 'mail relay',
      intervalMs: options.pollMs,
      logger,
      cycle: async () => {
        await this.drain();
        return 'idle';
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.mailer.close();
  }

  /** A commit just wrote messages: send them now rather than at the next poll. */
  kick(): void {
    this.loop.kick();
  }

  /** Sends everything due now (for boot and tests); returns how many messages were handled. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const handled = await this.sendDue();
      total += handled;
      if (handled < BATCH_SIZE) return total;
    }
  }

  private async sendDue(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const rows = await em.execute<ClaimedMessage[]>(CLAIM_DUE_SQL, [BATCH_SIZE]);
      for (const row of rows) await this.sendOne(em, row);
      return rows.length;
    });
  }

  private async sendOne(em: EntityManager, row: ClaimedMessage): Promise<void> {
    let handover: Handover;
    try {
      handover = await this.mailer.send({ to: row.recipient, subject: row.subject, text: row.text, html: row.html });
    } catch (error) {
      const attempts = row.attempts + 1;
      const message = error instanceof Error ? error.message : String(error);
      if (attempts >= this.maxAttempts) {
        this.logger.error({ err: error, mail: row.id, attempts }, 'mail could not be delivered; giving up');
        await em.execute('delete from mail_outbox where id = ?', [row.id]);
        await this.setDelivery(em, row.invitation_id, 'failed');
        return;
      }
      const backoff = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (attempts - 1));
      this.logger.warn({ err: error, mail: row.id, attempts, retryInMs: backoff }, 'mail delivery failed; will retry');
      await em.execute(
        `update mail_outbox set attempts = ?, last_error = ?, next_attempt_at = now() + (? * interval '1 millisecond') where id = ?`,
        [attempts, message.slice(0, 1000), backoff, row.id],
      );
      return;
    }
    await em.execute('delete from mail_outbox where id = ?', [row.id]);
    await this.setDelivery(em, row.invitation_id, handover);
  }

  private async setDelivery(em: EntityManager, invitationId: string | null, delivery: Handover | 'failed'): Promise<void> {
    if (!invitationId) return;
    await em.execute('update invitations set delivery = ? where id = ?', [delivery, invitationId]);
  }
}
