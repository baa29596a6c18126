import { LockMode, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { userActor, type AuditEntry } from '../audit/audit-log.ts';
import type { AuditChanges } from '../audit/audit-chain.ts';
import type { TenantAccess } from '../authz/access.ts';
import { organizationRoleTuple, workspaceRoleTuple } from '../authz/relationships.ts';
import type { TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import {
  Invitation,
  MailOutboxEntry,
  Organization,
  OrganizationMembership,
  User,
  Workspace,
  WorkspaceMembership,
  type InvitationRole,
  type InvitationState,
  type InvitedWorkspace,
} from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, Forbidden, NotFound } from '../errors.ts';
import { renderInvitationMessage } from '../mail/invitation-message.ts';
import type { MailRelay } from '../mail/mail-relay.ts';
import type { OrganizationService } from './organization.service.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';

export interface NewInvitation {
  email: string;
  role: InvitationRole;
  workspaces: InvitedWorkspace[];
  expiresInDays: number;
}

/** What the public preview shows: never the token, never the whole email. */
export interface InvitationPreview {
  organizationName: string;
  inviterUsername: string;
  role: InvitationRole;
  expiresAt: Date;
  maskedEmail: string;
}

const DAY_MS = 24 * 3600 * 1000;
/** A resend extends the invitation by the default create offers. */
const RESEND_EXPIRY_DAYS = 7;

/** One answer for an unknown, used, revoked, declined or expired token, so a token tells nothing. */
const noSuchInvitation = () => new NotFound('No open invitation has that token');

/** a***@example.com: enough for the invitee to recognise, too little to harvest. */
function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/**
 * An invitation's audit event: the actor is the inviter for created, resent and revoked, the
 * invitee for accepted and declined. The email is stored (readers hold org:audit_log and see it in
 * the invitation list anyway); the token and its hash never are.
 */
function invitationEvent(actorId: string, action: `org.invitation.${string}`, invitation: Invitation, changes: AuditChanges): AuditEntry {
  return { actor: userActor(actorId), action, target: { type: 'invitation', id: invitation.id }, changes };
}

/** Invitations by email: created and managed under org:invite, answered by the invitee with the token of the mail. */
export class InvitationService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly access: TenantAccess;
  private readonly organizations: OrganizationService;
  private readonly mailRelay: MailRelay;
  private readonly publicUrl: string;

  constructor(
    orm: Orm,
    unitOfWork: TenantUnitOfWork,
    access: TenantAccess,
    organizations: OrganizationService,
    mailRelay: MailRelay,
    publicUrl: string,
  ) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.access = access;
    this.organizations = organizations;
    this.mailRelay = mailRelay;
    this.publicUrl = publicUrl;
  }

  async create(actorId: string, organizationId: string, input: NewInvitation): Promise<Written<Invitation>> {
    const written = await this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:invite');
      const email = input.email.toLowerCase();
      await this.assertWorkspacesGrantable(em, found, actorId, input.workspaces);
      if (await em.findOne(OrganizationMembership, { organization: found, user: { email } })) {
        throw new Conflict('That email already belongs to a member of this organization');
      }
      const pending = await em.findOne(Invitation, { organization: found, email, state: 'pending' });
      if (pending && pending.stateAt() === 'pending') {
        throw new Conflict('That email already has a pending invitation; resend it instead');
      }
      // A pending invitation past its expiry gives way: its row becomes what it already reads as.
      if (pending) pending.state = 'expired';
      await em.flush();
      await this.organizations.assertRoomFor(em, found, 'members');
      const inviter = await em.findOneOrFail(User, { id: actorId });
      const token = newSecretToken();
      const invitation = new Invitation({
        organization: found,
        email,
        role: input.role,
        workspaces: input.workspaces,
        tokenHash: hashSecretToken(token),
        invitedBy: inviter,
        expiresAt: new Date(Date.now() + input.expiresInDays * DAY_MS),
      });
      em.persist(invitation);
      // The message row names the invitation by a plain column: the invitation is inserted first.
      await em.flush();
      this.enqueueMessage(em, invitation, token);
      await em.flush();
      return {
        result: invitation,
        audit: [
          invitationEvent(actorId, 'org.invitation.created', invitation, {
            email: [null, email],
            role: [null, input.role],
            ...(input.workspaces.length > 0 ? { workspaces: [null, input.workspaces] } : {}),
            expires_at: [null, invitation.expiresAt.toISOString()],
          }),
        ],
      };
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
      const invitation = await this.openInvitation(em, found, invitationId);
      invitation.state = 'revoked';
      await em.nativeDelete(MailOutboxEntry, { invitationId: invitation.id });
      return { result: undefined, audit: [invitationEvent(actorId, 'org.invitation.revoked', invitation, { state: ['pending', 'revoked'] })] };
    });
  }

  /** A new token (the old one dead), the expiry a week from now, and a new message. */
  async resend(actorId: string, organizationId: string, invitationId: string): Promise<Written<Invitation>> {
    const written = await this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:invite');
      const invitation = await this.invitationOf(em, found, invitationId);
      if (invitation.state !== 'pending' && invitation.state !== 'expired') {
        throw new Conflict(`The invitation is ${invitation.state}; only a pending or expired one can be resent`);
      }
      if (invitation.state === 'expired' || invitation.stateAt() === 'expired') {
        const other = await em.findOne(Invitation, { organization: found, email: invitation.email, state: 'pending', id: { $ne: invitation.id } });
        if (other) throw new Conflict('That email has a newer pending invitation');
        await this.organizations.assertRoomFor(em, found, 'members');
      }
      const before = { state: invitation.stateAt(), expiresAt: invitation.expiresAt.toISOString() };
      const token = newSecretToken();
      invitation.tokenHash = hashSecretToken(token);
      invitation.state = 'pending';
      invitation.delivery = 'pending';
      invitation.expiresAt = new Date(Date.now() + RESEND_EXPIRY_DAYS * DAY_MS);
      await em.nativeDelete(MailOutboxEntry, { invitationId: invitation.id });
      this.enqueueMessage(em, invitation, token);
      await em.flush();
      const changes: AuditChanges = {
        ...(before.state === 'pending' ? {} : { state: [before.state, 'pending'] }),
        expires_at: [before.expiresAt, invitation.expiresAt.toISOString()],
      };
      return { result: invitation, audit: [invitationEvent(actorId, 'org.invitation.resent', invitation, changes)] };
    });
    this.mailRelay.kick();
    return written;
  }

  async preview(token: string): Promise<InvitationPreview> {
    const em = this.orm.em.fork();
    const invitation = await em.findOne(Invitation, { tokenHash: hashSecretToken(token) }, { populate: ['organization', 'invitedBy'] });
    if (!invitation || invitation.stateAt() !== 'pending') throw noSuchInvitation();
    return {
      organizationName: invitation.organization.name,
      inviterUsername: invitation.invitedBy.username,
      role: invitation.role,
      expiresAt: invitation.expiresAt,
      maskedEmail: maskEmail(invitation.email),
    };
  }

  /**
   * The caller joins with the invitation's role and workspace roles, in one unit of work: rows in
   * this transaction, tuples through the outbox after the commit. The organization's row lock
   * serializes concurrent accepts; the second finds the invitation used (404).
   */
  async accept(actorId: string, token: string): Promise<Written<OrganizationMembership>> {
    const organizationId = await this.organizationOfToken(token);
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      if (!organization) throw noSuchInvitation();
      const invitation = await this.usableInvitation(em, token, actorId);
      const user = await em.findOneOrFail(User, { id: actorId });
      if (await em.findOne(OrganizationMembership, { organization, user })) {
        throw new Conflict('You are already a member of this organization');
      }
      const membership = new OrganizationMembership(organization, user, invitation.role);
      em.persist(membership);
      const workspaceMemberships = await this.joinWorkspaces(em, organization, user, invitation.workspaces);
      invitation.state = 'accepted';
      invitation.acceptedBy = user.id;
      await em.flush();
      const joined = workspaceMemberships.map((row) => ({ workspace_id: row.workspace.id, role: row.role }));
      return {
        result: membership,
        grantAfterCommit: [organizationRoleTuple(membership), ...workspaceMemberships.map(workspaceRoleTuple)],
        audit: [
          invitationEvent(actorId, 'org.invitation.accepted', invitation, {
            state: ['pending', 'accepted'],
            accepted_by: [null, user.id],
            role: [null, membership.role],
            ...(joined.length > 0 ? { workspaces: [null, joined] } : {}),
          }),
        ],
      };
    });
  }

  /**
   * Signup with an invitation token: the new account joins when the token is open and its email
   * matches. Otherwise the account stands as created (its own organization) and joins nothing.
   */
  async acceptOnSignup(userId: string, token: string): Promise<boolean> {
    try {
      await this.accept(userId, token);
      return true;
    } catch (error) {
      if (error instanceof NotFound || error instanceof Forbidden || error instanceof Conflict) return false;
      throw error;
    }
  }

  async decline(actorId: string, token: string): Promise<void> {
    const organizationId = await this.organizationOfToken(token);
    await this.unitOfWork.inOrganization(organizationId, async (em) => {
      const invitation = await this.usableInvitation(em, token, actorId);
      invitation.state = 'declined';
      await em.nativeDelete(MailOutboxEntry, { invitationId: invitation.id });
      return { result: undefined, audit: [invitationEvent(actorId, 'org.invitation.declined', invitation, { state: ['pending', 'declined'] })] };
    });
  }

  /** The pending invitations addressed to the caller's email, newest first. */
  async mine(actorId: string): Promise<Invitation[]> {
    const em = this.orm.em.fork();
    const user = await em.findOneOrFail(User, { id: actorId });
    return em.find(
      Invitation,
      { email: user.email.toLowerCase(), state: 'pending', expiresAt: { $gt: new Date() } },
      { populate: ['organization', 'invitedBy'], orderBy: { createdAt: 'desc', id: 'desc' }, limit: 100 },
    );
  }

  private async organizationOfToken(token: string): Promise<string> {
    const invitation = await this.orm.em.fork().findOne(Invitation, { tokenHash: hashSecretToken(token) });
    if (!invitation || invitation.stateAt() !== 'pending') throw noSuchInvitation();
    return invitation.organization.id;
  }

  /** Under the organization's lock: still pending, not expired, and addressed to the caller. */
  private async usableInvitation(em: EntityManager, token: string, actorId: string): Promise<Invitation> {
    const invitation = await em.findOne(Invitation, { tokenHash: hashSecretToken(token) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!invitation || invitation.stateAt() !== 'pending') throw noSuchInvitation();
    const user = await em.findOneOrFail(User, { id: actorId });
    if (user.email.toLowerCase() !== invitation.email.toLowerCase()) {
      throw new Forbidden('This invitation is addressed to another email');
    }
    return invitation;
  }

  private async joinWorkspaces(
    em: EntityManager,
    organization: Organization,
    user: User,
    invited: InvitedWorkspace[],
  ): Promise<WorkspaceMembership[]> {
    const joined: WorkspaceMembership[] = [];
    for (const { workspace_id, role } of invited) {
      // A workspace deleted since the invitation was written is skipped, not an error.
      const workspace = await em.findOne(Workspace, { id: workspace_id, organization });
      if (!workspace) continue;
      joined.push(new WorkspaceMembership(workspace, user, role));
    }
    const byDefault = await this.organizations.defaultWorkspaceMembership(em, organization, user);
    if (byDefault && !joined.some((membership) => membership.workspace.id === byDefault.workspace.id)) joined.push(byDefault);
    em.persist(joined);
    return joined;
  }

  private async assertWorkspacesGrantable(em: EntityManager, organization: Organization, actorId: string, invited: InvitedWorkspace[]): Promise<void> {
    for (const { workspace_id } of invited) {
      const workspace = await em.findOne(Workspace, { id: workspace_id, organization }, { populate: ['organization'] });
      if (!workspace) throw new NotFound(`No workspace ${workspace_id} in this organization`);
      await this.access.requireOnWorkspace(workspace, actorId, 'workspace:manage_members');
    }
  }

  private async openInvitation(em: EntityManager, organization: Organization, invitationId: string): Promise<Invitation> {
    const invitation = await this.invitationOf(em, organization, invitationId);
    if (invitation.stateAt() !== 'pending') throw new Conflict(`The invitation is ${invitation.stateAt()}`);
    return invitation;
  }

  private async invitationOf(em: EntityManager, organization: Organization, invitationId: string): Promise<Invitation> {
    const invitation = await em.findOne(Invitation, { id: invitationId, organization }, { populate: ['invitedBy'] });
    if (!invitation) throw new NotFound('No invitation has that id in this organization');
    return invitation;
  }

  private enqueueMessage(em: EntityManager, invitation: Invitation, token: string): void {
    const message = renderInvitationMessage({
      organizationName: invitation.organization.name,
      inviterName: invitation.invitedBy.username,
      role: invitation.role,
      link: `${this.publicUrl}/api/v1/invitations/${token}`,
      expiresAt: invitation.expiresAt,
    });
    em.persist(new MailOutboxEntry({ invitationId: invitation.id, recipient: invitation.email, ...message }));
  }
}
