import type { EntityManager } from '@mikro-orm/postgresql';
import type { InvitationMailLimits } from '../config.ts';
import type { Invitation } from '../db/entities/index.ts';
import { TooManyRequests } from '../errors.ts';

/**
 * How much invitation mail an organization and an inviter may cause: at most `perOrganization`
 * and `perInviter` (over all their organizations) messages within a sliding window, and a resend
 * of one invitation no sooner than the cooldown after its last message. A message counts when it
 * is written to the mail outbox, in that transaction, so a refused request writes nothing and a
 * rolled-back one counts nothing. The organization's row lock (the unit of work holds it)
 * serializes the organization's count; an advisory lock on the inviter serializes theirs across
 * organizations, so parallel requests cannot pass a limit together.
 */
export class InvitationMailQuota {
  private readonly limits: InvitationMailLimits;

  constructor(limits: InvitationMailLimits) {
    this.limits = limits;
  }

  /** 429 (with Retry-After) while the invitation's last message is younger than the cooldown. */
  assertCooledDown(invitation: Invitation, now: Date = new Date()): void {
    if (!invitation.mailedAt) return;
    const readyAt = invitation.mailedAt.getTime() + this.limits.resendCooldownSeconds * 1000;
    if (readyAt > now.getTime()) {
      throw new TooManyRequests('This invitation was mailed moments ago; it can be resent after Retry-After seconds', (readyAt - now.getTime()) / 1000);
    }
  }

  /** Counts one more message by `inviterId` in `organizationId`, or answers 429 when either limit is reached. */
  async take(em: EntityManager, organizationId: string, inviterId: string): Promise<void> {
    await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`invitation-mail:${inviterId}`]);
    // What left the window counts for nothing; this organization's rows go under its own lock.
    await em.execute('delete from invitation_mailings where organization_id = ? and created_at <= now() - make_interval(secs => ?)', [
      organizationId,
      this.limits.windowSeconds,
    ]);
    await this.assertRoom(em, 'organization_id', organizationId, this.limits.perOrganization, 'This organization has sent');
    await this.assertRoom(em, 'inviter_id', inviterId, this.limits.perInviter, 'You have sent');
    await em.execute('insert into invitation_mailings (organization_id, inviter_id) values (?, ?)', [organizationId, inviterId]);
  }

  /**
   * Refuses when `limit` messages are already in the window. Retry-After is when the limit-th
   * newest of them leaves it: from then on there is room for one more.
   */
  private async assertRoom(em: EntityManager, column: 'organization_id' | 'inviter_id', id: string, limit: number, who: string): Promise<void> {
    const { windowSeconds } = this.limits;
    const [full] = await em.execute<Array<{ seconds: string | number }>>(
      `select extract(epoch from created_at + make_interval(secs => ?) - now()) as seconds
         from invitation_mailings
        where ${column} = ? and created_at > now() - make_interval(secs => ?)
        order by created_at desc
       offset ? limit 1`,
      [windowSeconds, id, windowSeconds, limit - 1],
    );
    if (!full) return;
    throw new TooManyRequests(
      `${who} ${limit} invitation mails within ${windowSeconds} seconds, the most allowed; try again after Retry-After seconds`,
      Number(full.seconds),
    );
  }
}
