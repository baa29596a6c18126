import type { EntityManager } from '@mikro-orm/postgresql';
import { appendSubjectAuditEvent, userActor, type AuditEntry } from '../audit/audit-log.ts';
import { mfaEnrolmentTuple, organizationRoleTuple, resourceGrantTuple, teamMemberTuple, workspaceRoleTuple } from '../authz/relationships.ts';
import { forgetModuleTuplesNaming } from '../authz/module-relationships.ts';
import type { TenantUnitOfWork } from '../authz/tenant-unit-of-work.ts';
import type { RelationshipUpdate } from '../authz/types.ts';
import { OrganizationMembership, ResourceGrant, SignInSession, TeamMembership, User, WorkspaceMembership } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, Forbidden } from '../errors.ts';
import type { AccessTokenClaims } from './access-tokens.ts';
import type { IdentityService, SignInClient } from './identity.service.ts';
import type { SessionService } from './session.service.ts';

/** How a signed-in person proves it is really them before their account goes: the password, or a sign-in moments ago. */
export interface DeletionProof {
  password?: string | undefined;
}

/** A direct grant to the user, with the organization of the resource it is on (whose chain records its removal). */
interface GrantInOrganization {
  grant: ResourceGrant;
  organizationId: string;
}

/**
 * A person deletes their own account. Refused (409) while they own an organization: ownership
 * moves first. Otherwise one unit of work, holding the lock of every organization they belong to
 * or hold a direct grant in, removes their memberships, team memberships and grants, deletes
 * their tuples from SpiceDB before the commit, ends every session (every instance refuses their
 * access tokens once it commits) and deletes the user. The audit log keeps what happened, under
 * the user's id: no event names their email.
 */
export class AccountDeletionService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly identity: IdentityService;
  private readonly sessions: SessionService;
  private readonly recentSignInMinutes: number;

  constructor(orm: Orm, unitOfWork: TenantUnitOfWork, identity: IdentityService, sessions: SessionService, recentSignInMinutes: number) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.identity = identity;
    this.sessions = sessions;
    this.recentSignInMinutes = recentSignInMinutes;
  }

  async deleteOwn(claims: AccessTokenClaims, proof: DeletionProof, client: SignInClient): Promise<void> {
    const user = await this.identity.currentUser(claims);
    await this.requireProof(user, claims.sessionId, proof, client);
    const organizationIds = await this.organizationsOf(this.orm.em, user.id);
    const { result: endedSessions } = await this.unitOfWork.inOrganizations(organizationIds, async (em, locked) => {
      // Read again under the locks: a membership or grant that came since would escape them.
      const memberships = await em.find(OrganizationMembership, { user: user.id }, { orderBy: { id: 'asc' } });
      if (memberships.some((membership) => membership.role === 'owner')) {
        throw new Conflict('You own an organization: transfer its ownership (or delete it) before deleting your account');
      }
      const grants = await grantsTo(em, user.id);
      const touched = [...memberships.map((membership) => membership.organization.id), ...grants.map((held) => held.organizationId)];
      if (touched.some((organizationId) => !locked.has(organizationId))) {
        throw new Conflict('Your memberships changed while the account was being deleted; try again');
      }
      const workspaceMemberships = await em.find(WorkspaceMembership, { user: user.id });
      const teamMemberships = await em.find(TeamMembership, { user: user.id });
      const revoked: RelationshipUpdate[] = [
        ...memberships.map(organizationRoleTuple),
        ...workspaceMemberships.map(workspaceRoleTuple),
        ...teamMemberships.map(teamMemberTuple),
        ...grants.map(({ grant }) => resourceGrantTuple(grant)),
        mfaEnrolmentTuple(user.id),
      ].map((relationship) => ({ operation: 'delete', relationship }));
      // Policy modules' relationships naming the user (a document's owner, a viewer) go too.
      const moduleTuples = await forgetModuleTuplesNaming(em, [{ type: 'user', id: user.id }]);
      const ended = await this.sessions.endAllWithin(em, user.id, 'account_deleted');
      await appendSubjectAuditEvent(em, { actor: userActor(user.id), action: 'user.deleted', target: { type: 'user', id: user.id } });
      em.remove([...memberships, ...workspaceMemberships, ...teamMemberships, ...grants.map(({ grant }) => grant)]);
      await em.flush();
      // Sessions, refresh tokens, known clients and invitations sent by or to the account go with it (cascade).
      await em.nativeDelete(User, { id: user.id });
      return {
        result: ended,
        writeBeforeCommit: revoked,
        deleteBeforeCommit: moduleTuples,
        supersede: { subjects: [{ type: 'user', id: user.id }] },
        audit: [...memberships.map((membership) => memberLeft(membership)), ...grants.map((held) => grantRemoved(user.id, held))],
      };
    });
    this.sessions.ended(endedSessions);
  }

  /**
   * The password (checked as a login is, so guesses are throttled like login), or else the caller's
   * session began with a sign-in within the last ACCOUNT_REAUTH_MINUTES (a refresh is no sign-in).
   */
  private async requireProof(user: User, sessionId: string, proof: DeletionProof, client: SignInClient): Promise<void> {
    if (proof.password !== undefined) {
      if (!(await this.identity.passwordMatches(user, proof.password, client))) throw new Forbidden('The password is wrong');
      return;
    }
    const session = await this.orm.em.findOne(SignInSession, { id: sessionId, user: user.id });
    const signedInSince = new Date(Date.now() - this.recentSignInMinutes * 60_000);
    if (!session || session.createdAt < signedInSince) {
      throw new Forbidden(`Confirm with your password, or sign in again: deleting an account needs a sign-in within the last ${this.recentSignInMinutes} minutes`);
    }
  }

  /** The organizations whose rows a deletion locks: those the user is a member of or holds a direct grant in. */
  private async organizationsOf(em: EntityManager, userId: string): Promise<string[]> {
    const rows = await em.execute<Array<{ organization_id: string }>>(
      `select organization_id from organization_memberships where user_id = ?
       union
       select r.organization_id from resource_grants g join resources r on r.type = g.resource_type and r.id = g.resource_id
        where g.subject_type = 'user' and g.subject_id = ?`,
      [userId, userId],
    );
    return rows.map((row) => row.organization_id);
  }
}

async function grantsTo(em: EntityManager, userId: string): Promise<GrantInOrganization[]> {
  const rows = await em.execute<Array<Record<string, unknown> & { resource_organization_id: string }>>(
    `select g.*, r.organization_id as resource_organization_id from resource_grants g
       join resources r on r.type = g.resource_type and r.id = g.resource_id
      where g.subject_type = 'user' and g.subject_id = ? order by g.id`,
    [userId],
  );
  return rows.map(({ resource_organization_id, ...row }) => ({ grant: em.map(ResourceGrant, row), organizationId: resource_organization_id }));
}

function memberLeft(membership: OrganizationMembership): AuditEntry & { organizationId: string } {
  return {
    organizationId: membership.organization.id,
    actor: userActor(membership.user.id),
    action: 'org.member.account_deleted',
    target: { type: 'user', id: membership.user.id },
    changes: { role: [membership.role, null] },
  };
}

function grantRemoved(userId: string, { grant, organizationId }: GrantInOrganization): AuditEntry & { organizationId: string } {
  return {
    organizationId,
    actor: userActor(userId),
    action: 'resource.grant.removed',
    target: { type: grant.resourceType, id: grant.resourceId },
    changes: { subject: [`user:${userId}`, null], role: [grant.role, null] },
  };
}
