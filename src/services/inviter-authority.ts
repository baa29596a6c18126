import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditActor } from '../audit/audit-chain.ts';
import type { AuditEntry } from '../audit/audit-log.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import type { ZedToken } from '../authz/types.ts';
import { Invitation, MailOutboxEntry, Workspace, type Organization } from '../db/entities/index.ts';
import { invitationEvent } from './invitation.service.ts';

/** The actor of a revocation at accept time: no one revoked it; the inviter's lost authority did. */
export const INVITER_AUTHORITY: AuditActor = { type: 'system', id: 'inviter_authority' };

/**
 * An invitation carries no more authority than its inviter still has. Sending one needs
 * org:invite on the organization and workspace:manage_members on each workspace it gives a role
 * in; its inviter must still hold all of that, asked of SpiceDB, when it is accepted. Removing or
 * demoting a member revokes, in that same unit of work, those of their pending invitations they
 * could no longer send.
 */
export class InviterAuthority {
  private readonly authorizer: Authorizer;

  constructor(authorizer: Authorizer) {
    this.authorizer = authorizer;
  }

  /**
   * Whether the inviter could send this invitation now (SpiceDB at `freshness` or newer). A
   * workspace deleted since is not asked about: accepting skips it.
   */
  async maySend(em: EntityManager, invitation: Invitation, freshness: ZedToken | null): Promise<boolean> {
    const inviterId = invitation.invitedBy.id;
    if (!(await this.authorizer.can(inviterId, 'org:invite', invitation.organization.id, freshness))) return false;
    const invited = invitation.workspaces.map((workspace) => workspace.workspace_id);
    if (invited.length === 0) return true;
    const remaining = await em.find(Workspace, { id: { $in: invited }, organization: invitation.organization }, { fields: ['id'] });
    for (const workspace of remaining) {
      if (!(await this.authorizer.can(inviterId, 'workspace:manage_members', workspace.id, freshness))) return false;
    }
    return true;
  }

  /**
   * For a unit of work that just took authority away from `inviterId` (its `afterWrite`): revokes
   * their open invitations in the organization that they may no longer send, one event each.
   */
  async revokeUnsendable(
    em: EntityManager,
    organization: Organization,
    inviterId: string,
    actor: AuditActor,
    freshness: ZedToken | null,
  ): Promise<AuditEntry[]> {
    const open = await em.find(Invitation, { organization, invitedBy: inviterId, state: 'pending', expiresAt: { $gt: new Date() } });
    const revoked: AuditEntry[] = [];
    for (const invitation of open) {
      if (!(await this.maySend(em, invitation, freshness))) revoked.push(await this.revoke(em, invitation, actor));
    }
    return revoked;
  }

  /** The invitation is revoked (its token dead, its unsent message dropped); the event says why. */
  async revoke(em: EntityManager, invitation: Invitation, actor: AuditActor): Promise<AuditEntry> {
    invitation.state = 'revoked';
    await em.nativeDelete(MailOutboxEntry, { invitationId: invitation.id });
    return invitationEvent(actor, 'org.invitation.revoked', invitation, {
      state: ['pending', 'revoked'],
      reason: [null, 'inviter_lost_authority'],
    });
  }
}
