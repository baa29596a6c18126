import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { userActor, type AuditEntry } from '../audit/audit-log.ts';
import type { AuditActor, AuditChanges } from '../audit/audit-chain.ts';
import type { TenantAccess } from '../authz/access.ts';
import { CATALOGUE_NAMES } from '../authz/role-catalogue.ts';
import type { TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import {
  Invitation,
  MailOutboxEntry,
  Organization,
  OrganizationMembership,
  User,
  Workspace,
  type InvitationRole,
  type InvitationState,
  type InvitedWorkspace,
} from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, NotFound } from '../errors.ts';
import { renderInvitationMessage } from '../mail/invitation-message.ts';
import type { MailRelay } from '../mail/mail-relay.ts';
import type { RoleEscalationGuard } from './role-escalation.ts';
import type { InvitationMailQuota } from './invitation-mail-quota.ts';
import type { OrganizationService } from './organization.service.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';

export interface NewInvitation {
  email: string;
  role: InvitationRole;
  workspaces: InvitedWorkspace[];
  expiresInDays: number;
}

const DAY_MS = 24 * 3600 * 1000;
/** A resend extends the invitation, and a membership proposed to an account lasts, as long as the default create offers. */
const DEFAULT_EXPIRY_DAYS = 7;

/**
 * An invitation's audit event: the actor is who created, resent or revoked it, or the invitee for
 * accepted and declined. An invitation by email keeps its email (readers hold org:audit_log and
 * see it in the invitation list anyway); one addressed to an account keeps the account's id, never
 * its email, which the organization does not see until that person accepts. Never the token.
 */
export function invitationEvent(actor: AuditActor, action: `org.invitation.${string}`, invitation: Invitation, changes: AuditChanges): AuditEntry {
  return { actor, action, target: { type: 'invitation', id: invitation.id }, changes };
}

/** Who an invitation is for, as a filter: the one account it names, or its email when it names none. */
function addresseeOf(invitation: Pick<Invitation, 'email' | 'invitee'>): FilterQuery<Invitation> {
  return invitation.invitee ? { invitee: invitation.invitee.id } : { invitee: null, email: invitation.email };
}

/**
 * The organization's side of invitations, under org:invite: invitations by email, memberships
 * proposed to an account (pending until it accepts), listing, revoking, resending. Every message
 * is counted against the organization's and the inviter's mail limits.
 */
export class InvitationService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly access: TenantAccess;
  private readonly organizations: OrganizationService;
  private readonly mailRelay: MailRelay;
  private readonly quota: InvitationMailQuota;
  private readonly linkBaseUrl: string;

  /** org:invite can come from a custom role: inviting an admin asks for what an admin can be given. */
  private readonly escalation: RoleEscalationGuard;

  constructor(
    orm: Orm,
    unitOfWork: TenantUnitOfWork,
    access: TenantAccess,
    organizations: OrganizationService,
    mailRelay: MailRelay,
    quota: InvitationMailQuota,
    linkBaseUrl: string,
    escalation: RoleEscalationGuard,
  ) {
    this.escalation = escalation;
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.access = access;
    this.organizations = organizations;
    this.mailRelay = mailRelay;
    this.quota = quota;
    this.linkBaseUrl = linkBaseUrl;
  }

  async create(actorId: string, organizationId: string, input: NewInvitation): Promise<Written<Invitation>> {
    const written = await this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:invite');
      if (input.role === 'admin') await this.escalation.assertHoldsAll(actorId, found, CATALOGUE_NAMES);
      const email = input.email.toLowerCase();
      await this.assertWorkspacesGrantable(em, found, actorId, input.workspaces);
      if (await em.findOne(OrganizationMembership, { organization: found, user: { email } })) {
        throw new Conflict('That email already belongs to a member of this organization');
      }
      await this.makeWayFor(em, found, { email, invitee: null }, 'That email already has a pending invitation; resend it instead');
      await this.organizations.assertRoomFor(em, found, 'members');
      const invitation = await this.send(em, found, actorId, {
        email,
        invitee: null,
        role: input.role,
        workspaces: input.workspaces,
        expiresAt: new Date(Date.now() + input.expiresInDays * DAY_MS),
      });
      const changes: AuditChanges = {
        email: [null, email],
        role: [null, input.role],
        ...(input.workspaces.length > 0 ? { workspaces: [null, input.workspaces] } : {}),
        expires_at: [null, invitation.expiresAt.toISOString()],
      };
      return { result: invitation, audit: [invitationEvent(userActor(actorId), 'org.invitation.created', invitation, changes)] };
    });
    this.mailRelay.kick();
    return written;
  }

  /**
   * A membership proposed to an existing account (`POST /orgs/{id}/members`): an invitation
   * addressed to that account alone, pending until it accepts. Until then it holds a seat and
   * nothing else: no row in the member list, no tuple, no organization in that person's list, and
   * their email stays theirs (the message goes to it; the organization never sees it).
   */
  async proposeMembership(actorId: string, organizationId: string, userId: string, role: InvitationRole): Promise<Written<Invitation>> {
    const written = await this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:invite');
      if (role === 'admin') await this.escalation.assertHoldsAll(actorId, found, CATALOGUE_NAMES);
      const user = await em.findOne(User, { id: userId });
      if (!user) throw new NotFound('No user has that id');
      if (await em.findOne(OrganizationMembership, { organization: found, user })) {
        throw new Conflict('That user is already a member of this organization');
      }
      await this.makeWayFor(em, found, { email: user.email, invitee: user }, 'That user already has a pending membership here; resend its invitation instead');
      await this.organizations.assertRoomFor(em, found, 'members');
      const invitation = await this.send(em, found, actorId, {
        email: user.email,
        invitee: user,
        role,
        workspaces: [],
        expiresAt: new Date(Date.now() + DEFAULT_EXPIRY_DAYS * DAY_MS),
      });
      const changes: AuditChanges = { user_id: [null, user.id], role: [null, role], expires_at: [null, invitation.expiresAt.toISOString()] };
      return { result: invitation, audit: [invitationEvent(userActor(actorId), 'org.invitation.created', invitation, changes)] };
    });
    this.mailRelay.kick();
    return written;
  }

  async list(actorId: string, organizationId: string, state: InvitationState | undefined, page: PageRequest): Promise<Page<Invitation>> {
    const organization = await this.access.organization(this.orm.em, actorId, organizationId, 'org:invite');
    const now = new Date();
    const byState: FilterQuery<Invitation> =
      state === 'pending'
        ? { state: 'pending', expiresAt: { $gt: now } }
        : state === 'expired'
          ? { $or: [{ state: 'expired' }, { state: 'pending', expiresAt: { $lte: now } }] }
          : state
            ? { state }
            : {};
    const rows = await this.orm.em.find(
      Invitation,
      { $and: [{ organization }, byState, afterKeyset(page.after) as FilterQuery<Invitation>] },
      pageOptions(page),
    );
    return toPage(rows, page.limit, (row) => row);
  }

  /** The token stops working at once; the unsent message, if any, is dropped. */
  async revoke(actorId: string, organizationId: string, invitationId: string): Promise<Written<void>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:invite');
      const invitation = await this.invitationOf(em, found, invitationId);
      if (invitation.stateAt() !== 'pending') throw new Conflict(`The invitation is ${invitation.stateAt()}`);
      invitation.state = 'revoked';
      await em.nativeDelete(MailOutboxEntry, { invitationId: invitation.id });
      return { result: undefined, audit: [invitationEvent(userActor(actorId), 'org.invitation.revoked', invitation, { state: ['pending', 'revoked'] })] };
    });
  }

  /**
   * A new token (the old one dead), the expiry a week from now, and a new message, once the last
   * one is older than the resend cooldown. Whoever resends it sends it: they become its inviter,
   * so it carries their authority (checked again at accept), not that of someone since removed.
   */
  async resend(actorId: string, organizationId: string, invitationId: string): Promise<Written<Invitation>> {
    const written = await this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:invite');
      const invitation = await this.invitationOf(em, found, invitationId);
      if (invitation.state !== 'pending' && invitation.state !== 'expired') {
        throw new Conflict(`The invitation is ${invitation.state}; only a pending or expired one can be resent`);
      }
      this.quota.assertCooledDown(invitation);
      await this.assertWorkspacesGrantable(em, found, actorId, invitation.workspaces, 'skip deleted');
      if (invitation.state === 'expired' || invitation.stateAt() === 'expired') {
        const other = await em.findOne(Invitation, { $and: [addresseeOf(invitation), { organization: found, state: 'pending', id: { $ne: invitation.id } }] });
        if (other) throw new Conflict('That address has a newer pending invitation');
        await this.organizations.assertRoomFor(em, found, 'members');
      }
      const before = { state: invitation.stateAt(), expiresAt: invitation.expiresAt.toISOString(), inviter: invitation.invitedBy.id };
      const token = newSecretToken();
      invitation.invitedBy = await em.findOneOrFail(User, { id: actorId });
      invitation.tokenHash = hashSecretToken(token);
      invitation.state = 'pending';
      invitation.delivery = 'pending';
      invitation.expiresAt = new Date(Date.now() + DEFAULT_EXPIRY_DAYS * DAY_MS);
      await em.nativeDelete(MailOutboxEntry, { invitationId: invitation.id });
      await this.enqueueMessage(em, invitation, token);
      await em.flush();
      const changes: AuditChanges = {
        ...(before.state === 'pending' ? {} : { state: [before.state, 'pending'] }),
        ...(before.inviter === actorId ? {} : { invited_by: [before.inviter, actorId] }),
        expires_at: [before.expiresAt, invitation.expiresAt.toISOString()],
      };
      return { result: invitation, audit: [invitationEvent(userActor(actorId), 'org.invitation.resent', invitation, changes)] };
    });
    this.mailRelay.kick();
    return written;
  }

  /** A pending invitation to the same address refuses the new one; one past its expiry gives way, its row becoming what it already reads as. */
  private async makeWayFor(em: EntityManager, organization: Organization, addressee: Pick<Invitation, 'email' | 'invitee'>, conflict: string): Promise<void> {
    const pending = await em.findOne(Invitation, { $and: [addresseeOf(addressee), { organization, state: 'pending' }] });
    if (!pending) return;
    if (pending.stateAt() === 'pending') throw new Conflict(conflict);
    pending.state = 'expired';
    await em.flush();
  }

  /** A new pending invitation from `inviterId`, and its message in the mail outbox (counted against the limits). */
  private async send(
    em: EntityManager,
    organization: Organization,
    inviterId: string,
    fields: Pick<Invitation, 'email' | 'invitee' | 'role' | 'workspaces' | 'expiresAt'>,
  ): Promise<Invitation> {
    const token = newSecretToken();
    const invitation = new Invitation({
      organization,
      ...fields,
      tokenHash: hashSecretToken(token),
      invitedBy: await em.findOneOrFail(User, { id: inviterId }),
    });
    em.persist(invitation);
    // The message row names the invitation by a plain column: the invitation is inserted first.
    await em.flush();
    await this.enqueueMessage(em, invitation, token);
    await em.flush();
    return invitation;
  }

  private async assertWorkspacesGrantable(
    em: EntityManager,
    organization: Organization,
    actorId: string,
    invited: InvitedWorkspace[],
    deleted: 'refuse' | 'skip deleted' = 'refuse',
  ): Promise<void> {
    for (const { workspace_id } of invited) {
      const workspace = await em.findOne(Workspace, { id: workspace_id, organization }, { populate: ['organization'] });
      if (!workspace && deleted === 'skip deleted') continue;
      if (!workspace) throw new NotFound(`No workspace ${workspace_id} in this organization`);
      await this.access.requireOnWorkspace(workspace, actorId, 'workspace:manage_members');
    }
  }

  private async invitationOf(em: EntityManager, organization: Organization, invitationId: string): Promise<Invitation> {
    const invitation = await em.findOne(Invitation, { id: invitationId, organization }, { populate: ['invitedBy'] });
    if (!invitation) throw new NotFound('No invitation has that id in this organization');
    return invitation;
  }

  private async enqueueMessage(em: EntityManager, invitation: Invitation, token: string): Promise<void> {
    await this.quota.take(em, invitation.organization.id, invitation.invitedBy.id);
    invitation.mailedAt = new Date();
    const message = renderInvitationMessage({
      organizationName: invitation.organization.name,
      inviterName: invitation.invitedBy.username,
      role: invitation.role,
      link: `${this.linkBaseUrl}/invitations/${token}`,
      expiresAt: invitation.expiresAt,
    });
    em.persist(new MailOutboxEntry({ invitationId: invitation.id, recipient: invitation.email, ...message }));
  }
}
