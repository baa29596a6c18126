import { LockMode, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { userActor } from '../audit/audit-log.ts';
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
  type InvitedWorkspace,
} from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { AppError, Conflict, Forbidden, NotFound } from '../errors.ts';
import { invitationEvent } from './invitation.service.ts';
import { INVITER_AUTHORITY, type InviterAuthority } from './inviter-authority.ts';
import type { OrganizationService } from './organization.service.ts';
import { hashSecretToken } from './secret-tokens.ts';

/** What the public preview shows: never the token, never the whole email. */
export interface InvitationPreview {
  organizationName: string;
  inviterUsername: string;
  role: InvitationRole;
  /** The workspaces it adds the invitee to, by name, with their roles (those deleted since are left out). */
  workspaces: Array<{ name: string; role: InvitedWorkspace['role'] }>;
  expiresAt: Date;
  maskedEmail: string;
}

/** One answer for an unknown, used, revoked, declined or expired token, so a token tells nothing. */
const noSuchToken = () => new NotFound('No open invitation has that token');
/** And one for an id that names nothing open addressed to the caller: whether it exists is not theirs to learn. */
const noSuchId = () => new NotFound('No open invitation of yours has that id');

/** How an answer finds its invitation, under the organization's lock, for the signed-in user. */
interface Addressed {
  organizationId: string;
  find: (em: EntityManager, user: User) => Promise<Invitation>;
  refusal: () => AppError;
  /** Answered with the mailed token, which proves the caller reads the address it was sent to. */
  byToken: boolean;
}

/** a***@example.com: enough for the invitee to recognise, too little to harvest. */
function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/**
 * Whether the invitation is the user's to see and answer without its token: addressed to their
 * account, or to their email once they have proven it. An email alone proves nothing: anyone can
 * sign up with someone else's address.
 */
function isAddressedTo(invitation: Invitation, user: User): boolean {
  if (invitation.invitee) return invitation.invitee.id === user.id;
  return user.emailVerifiedAt !== null && invitation.email === user.email;
}

/**
 * The invitee's side of invitations: the public preview, and accepting or declining, with the
 * mailed token or, for what `GET /auth/me/invitations` lists, by id.
 */
export class InvitationAnswerService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly organizations: OrganizationService;
  private readonly authority: InviterAuthority;

  constructor(orm: Orm, unitOfWork: TenantUnitOfWork, organizations: OrganizationService, authority: InviterAuthority) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.organizations = organizations;
    this.authority = authority;
  }

  async preview(token: string): Promise<InvitationPreview> {
    const em = this.orm.em.fork();
    const invitation = await em.findOne(Invitation, { tokenHash: hashSecretToken(token) }, { populate: ['organization', 'invitedBy'] });
    if (!invitation || invitation.stateAt() !== 'pending') throw noSuchToken();
    const ids = invitation.workspaces.map((invited) => invited.workspace_id);
    const named = new Map((await em.find(Workspace, { id: { $in: ids }, organization: invitation.organization })).map((row) => [row.id, row.name]));
    return {
      organizationName: invitation.organization.name,
      inviterUsername: invitation.invitedBy.username,
      role: invitation.role,
      workspaces: invitation.workspaces.flatMap(({ workspace_id, role }) => {
        const name = named.get(workspace_id);
        return name === undefined ? [] : [{ name, role }];
      }),
      expiresAt: invitation.expiresAt,
      maskedEmail: maskEmail(invitation.email),
    };
  }

  /** With the mailed token: the caller's email must be the one it was sent to (403 otherwise). */
  async accept(actorId: string, token: string): Promise<Written<OrganizationMembership>> {
    return this.join(actorId, await this.byToken(token));
  }

  async acceptById(actorId: string, invitationId: string): Promise<Written<OrganizationMembership>> {
    return this.join(actorId, await this.byId(invitationId));
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
    await this.close(actorId, await this.byToken(token));
  }

  async declineById(actorId: string, invitationId: string): Promise<void> {
    await this.close(actorId, await this.byId(invitationId));
  }

  /**
   * The open invitations the caller may answer without a token, newest first: those addressed to
   * their account, and those to their email once it is proven. An unproven email sees none of the
   * latter (its mailed token still works).
   */
  async mine(actorId: string): Promise<Invitation[]> {
    const em = this.orm.em.fork();
    const user = await em.findOneOrFail(User, { id: actorId });
    const addressed: FilterQuery<Invitation> =
      user.emailVerifiedAt === null ? { invitee: user.id } : { $or: [{ invitee: user.id }, { invitee: null, email: user.email }] };
    return em.find(
      Invitation,
      { $and: [addressed, { state: 'pending', expiresAt: { $gt: new Date() } }] },
      { populate: ['organization', 'invitedBy'], orderBy: { createdAt: 'desc', id: 'desc' }, limit: 100 },
    );
  }

  /**
   * The caller joins with the invitation's role and workspace roles, in one unit of work: rows in
   * this transaction, tuples through the outbox after the commit. The organization's row lock
   * serializes concurrent accepts; the second finds the invitation used (404). If its inviter no
   * longer holds what sending it needs, it is revoked instead and the caller gets the same 404.
   */
  private async join(actorId: string, addressed: Addressed): Promise<Written<OrganizationMembership>> {
    const { result, zedToken } = await this.unitOfWork.inOrganization(addressed.organizationId, async (em, organization) => {
      if (!organization) throw addressed.refusal();
      const user = await em.findOneOrFail(User, { id: actorId });
      const invitation = await addressed.find(em, user);
      if (await em.findOne(OrganizationMembership, { organization, user })) {
        throw new Conflict('You are already a member of this organization');
      }
      if (!(await this.authority.maySend(em, invitation, organization.zedToken))) {
        return { result: null, audit: [await this.authority.revoke(em, invitation, INVITER_AUTHORITY)] };
      }
      const membership = new OrganizationMembership(organization, user, invitation.role);
      em.persist(membership);
      const workspaceMemberships = await this.joinWorkspaces(em, organization, user, invitation.workspaces);
      invitation.state = 'accepted';
      invitation.acceptedBy = user.id;
      // The token went to exactly this address: holding it proves the account reads it.
      if (addressed.byToken && user.emailVerifiedAt === null && user.email === invitation.email) user.emailVerifiedAt = new Date();
      await em.flush();
      const joined = workspaceMemberships.map((row) => ({ workspace_id: row.workspace.id, role: row.role }));
      return {
        result: membership,
        grantAfterCommit: [organizationRoleTuple(membership), ...workspaceMemberships.map(workspaceRoleTuple)],
        audit: [
          invitationEvent(userActor(actorId), 'org.invitation.accepted', invitation, {
            state: ['pending', 'accepted'],
            accepted_by: [null, user.id],
            role: [null, membership.role],
            ...(joined.length > 0 ? { workspaces: [null, joined] } : {}),
          }),
        ],
      };
    });
    if (!result) throw addressed.refusal();
    return { result, zedToken };
  }

  private async close(actorId: string, addressed: Addressed): Promise<void> {
    await this.unitOfWork.inOrganization(addressed.organizationId, async (em, organization) => {
      if (!organization) throw addressed.refusal();
      const invitation = await addressed.find(em, await em.findOneOrFail(User, { id: actorId }));
      invitation.state = 'declined';
      await em.nativeDelete(MailOutboxEntry, { invitationId: invitation.id });
      return { result: undefined, audit: [invitationEvent(userActor(actorId), 'org.invitation.declined', invitation, { state: ['pending', 'declined'] })] };
    });
  }

  /** Open, and sent to the caller's email (403 otherwise: the token shows it exists anyway). */
  private async byToken(token: string): Promise<Addressed> {
    const tokenHash = hashSecretToken(token);
    const organizationId = await this.organizationOfOpen({ tokenHash }, noSuchToken);
    return {
      organizationId,
      refusal: noSuchToken,
      byToken: true,
      find: async (em, user) => {
        const invitation = await this.lockedOpen(em, { tokenHash }, noSuchToken);
        const sentToCaller = invitation.email === user.email && (!invitation.invitee || invitation.invitee.id === user.id);
        if (!sentToCaller) throw new Forbidden('This invitation is addressed to another email');
        return invitation;
      },
    };
  }

  /** Open and addressed to the caller (isAddressedTo); anything else is the same 404 as no such id. */
  private async byId(invitationId: string): Promise<Addressed> {
    const organizationId = await this.organizationOfOpen({ id: invitationId }, noSuchId);
    return {
      organizationId,
      refusal: noSuchId,
      byToken: false,
      find: async (em, user) => {
        const invitation = await this.lockedOpen(em, { id: invitationId }, noSuchId);
        if (!isAddressedTo(invitation, user)) throw noSuchId();
        return invitation;
      },
    };
  }

  private async organizationOfOpen(where: FilterQuery<Invitation>, refusal: () => AppError): Promise<string> {
    const invitation = await this.orm.em.fork().findOne(Invitation, where);
    if (!invitation || invitation.stateAt() !== 'pending') throw refusal();
    return invitation.organization.id;
  }

  /** Under the organization's lock: still pending and not expired. */
  private async lockedOpen(em: EntityManager, where: FilterQuery<Invitation>, refusal: () => AppError): Promise<Invitation> {
    const invitation = await em.findOne(Invitation, where, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!invitation || invitation.stateAt() !== 'pending') throw refusal();
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
}
