import { forgetModuleTuplesNaming } from '../authz/module-relationships.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { organizationRoleFilters } from '../authz/role-relationships.ts';
import { appendAuditEvents, changedFields, userActor, type AuditEntry } from '../audit/audit-log.ts';
import type { TenantAccess } from '../authz/access.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import type { RelationshipOutbox } from '../authz/outbox.ts';
import type { OutboxRelay } from '../authz/outbox-relay.ts';
import type { TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import {
  mfaRequirementTuples,
  organizationRoleTuple,
  roleChange,
  sharedResourcesUnder,
  teamTupleFilters,
  workspaceParentTuple,
  workspaceRoleTuple,
  workspaceTupleFilters,
} from '../authz/relationships.ts';
import type { Config, PlanLimits } from '../config.ts';
import {
  Invitation,
  Organization,
  OrganizationMembership,
  Team,
  User,
  Workspace,
  WorkspaceMembership,
  type DefaultWorkspaceRole,
  type OrganizationRole,
  type SubscriptionTier,
} from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import type { RelationshipUpdate } from '../authz/types.ts';
import { BadRequest, Conflict, PaymentRequired, ValidationFailed } from '../errors.ts';
import { toPage, type Page, type PageRequest } from './pagination.ts';
import { hasConfirmedFactor } from './second-factors.ts';

export const DEFAULT_WORKSPACE_NAME = 'Default Workspace';

export interface NewOrganization {
  name: string;
  billingEmail?: string | undefined;
}

/** What the organization's own people may change; its tier is set by SubscriptionTierService. */
export interface OrganizationChanges {
  name?: string | undefined;
  defaultWorkspaceRole?: DefaultWorkspaceRole | undefined;
  billingEmail?: string | undefined;
  requireMfa?: boolean | undefined;
}

export interface CreatedOrganization {
  organization: Organization;
  defaultWorkspace: Workspace;
  /** Outbox rows to deliver once the enclosing transaction has committed. */
  pendingOutbox: string[];
}

/** What a caller is shown of an organization: the entity, or a row read without hydrating one. */
export type OrganizationFields = Pick<
  Organization,
  'id' | 'name' | 'billingEmail' | 'subscriptionTier' | 'defaultWorkspaceRole' | 'requireMfa' | 'createdAt' | 'updatedAt'
>;

/** An organization as one user sees it: with their role in it. */
export interface OrganizationView {
  organization: OrganizationFields;
  role: OrganizationRole | null;
}

interface ListedMembershipRow {
  id: string;
  role: OrganizationRole;
  /** Timestamps come back as text: MikroORM's driver turns off pg's Date parsing. */
  created_at: string;
  organization_id: string;
  name: string;
  billing_email: string;
  subscription_tier: Organization['subscriptionTier'];
  default_workspace_role: Organization['defaultWorkspaceRole'];
  require_mfa: boolean;
  organization_created_at: string;
  organization_updated_at: string;
}

export interface Billing {
  subscriptionTier: SubscriptionTier;
  billingEmail: string;
  usage: { members: number; workspaces: number };
  limits: PlanLimits;
}

export class OrganizationService {
  private readonly orm: Orm;
  private readonly outbox: RelationshipOutbox;
  private readonly relay: OutboxRelay;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly authorizer: Authorizer;
  private readonly access: TenantAccess;
  private readonly planLimits: Config['planLimits'];

  constructor(
    orm: Orm,
    outbox: RelationshipOutbox,
    relay: OutboxRelay,
    unitOfWork: TenantUnitOfWork,
    authorizer: Authorizer,
    access: TenantAccess,
    planLimits: Config['planLimits'],
  ) {
    this.orm = orm;
    this.outbox = outbox;
    this.relay = relay;
    this.unitOfWork = unitOfWork;
    this.authorizer = authorizer;
    this.access = access;
    this.planLimits = planLimits;
  }

  /** The caller's new organization with its default workspace, its tuples delivered before returning. */
  async create(ownerId: string, input: NewOrganization): Promise<Written<OrganizationView>> {
    const created = await this.orm.em.transactional(async (em) => {
      const owner = await em.findOneOrFail(User, { id: ownerId });
      return this.createWithin(em, owner, input);
    });
    await this.deliverCreated(created);
    return { result: { organization: created.organization, role: 'owner' }, zedToken: created.organization.zedToken };
  }

  /**
   * The same, inside a transaction the caller owns (signup creates the user in it too). The
   * caller calls deliverCreated() after its commit.
   */
  async createWithin(em: EntityManager, owner: User, input: NewOrganization): Promise<CreatedOrganization> {
    const organization = new Organization(input.name, input.billingEmail ?? owner.email);
    const ownership = new OrganizationMembership(organization, owner, 'owner');
    const defaultWorkspace = new Workspace(organization, DEFAULT_WORKSPACE_NAME);
    const workspaceAdmin = new WorkspaceMembership(defaultWorkspace, owner, 'admin');
    em.persist([organization, ownership, defaultWorkspace, workspaceAdmin]);
    await em.flush();
    // The organization is new in this transaction: no other can append to its chain before the commit.
    await appendAuditEvents(em, organization.id, [
      {
        actor: userActor(owner.id),
        action: 'org.created',
        target: { type: 'organization', id: organization.id },
        changes: { name: [null, organization.name], billing_email: [null, organization.billingEmail], owner: [null, owner.id] },
      },
    ]);
    const pendingOutbox = await this.outbox.enqueueGrants(
      em,
      [organizationRoleTuple(ownership), workspaceParentTuple(defaultWorkspace), workspaceRoleTuple(workspaceAdmin)],
      organization.id,
    );
    return { organization, defaultWorkspace, pendingOutbox };
  }

  /**
   * The organization's default workspace: its oldest one. Signup and POST /orgs create the
   * "Default Workspace" together with the organization, so it is the oldest; derived rather than
   * stored, so there is always one (the last workspace cannot be deleted) and no reference to
   * keep in step: if the Default Workspace is deleted, the next oldest takes its place.
   */
  async defaultWorkspaceOf(em: EntityManager, organization: Organization): Promise<Workspace | null> {
    return em.findOne(Workspace, { organization }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /**
   * A newcomer's row in the default workspace with the organization's default_workspace_role, not
   * yet persisted; null when the setting is none or they already have one. Whoever persists it in
   * the joining transaction grants its tuple after the commit with the member's own.
   */
  async defaultWorkspaceMembership(em: EntityManager, organization: Organization, user: User): Promise<WorkspaceMembership | null> {
    if (organization.defaultWorkspaceRole === 'none') return null;
    const workspace = await this.defaultWorkspaceOf(em, organization);
    if (!workspace || (await em.findOne(WorkspaceMembership, { workspace, user }))) return null;
    return new WorkspaceMembership(workspace, user, organization.defaultWorkspaceRole);
  }

  async deliverCreated(created: CreatedOrganization): Promise<void> {
    created.organization.zedToken =
      (await this.relay.deliver(created.pendingOutbox, created.organization.id)) ?? created.organization.zedToken;
  }

  /**
   * The organizations the caller can view: their memberships (Postgres gives the order and the
   * page), each confirmed by SpiceDB in one bulk check. Read as plain rows: hydrating a page of
   * memberships and organizations into entities cost more CPU than the rest of the request
   * (BENCHMARKS.md, `GET /orgs`).
   */
  async list(actorId: string, page: PageRequest): Promise<Page<OrganizationView>> {
    const after = page.after ? 'and (m.created_at, m.id) > (?, ?)' : '';
    const rows = await this.orm.em.getConnection().execute<ListedMembershipRow[]>(
      `select m.id, m.role, m.created_at, o.id as organization_id, o.name, o.billing_email, o.subscription_tier,
              o.default_workspace_role, o.require_mfa, o.created_at as organization_created_at, o.updated_at as organization_updated_at
         from organization_memberships m join organizations o on o.id = m.organization_id
        where m.user_id = ? ${after}
        order by m.created_at, m.id
        limit ?`,
      [actorId, ...(page.after ? [page.after.createdAt, page.after.id] : []), page.limit + 1],
    );
    const memberships = rows.map((row) => ({ id: row.id, createdAt: new Date(row.created_at), view: listedView(row) }));
    const viewable = await this.authorizer.allowedAmong(
      actorId,
      'org:view',
      memberships.map(({ view }) => view.organization.id),
    );
    const listed = toPage(memberships, page.limit, ({ view }) => view);
    return { ...listed, items: listed.items.filter((view) => viewable.has(view.organization.id)) };
  }

  async get(actorId: string, organizationId: string): Promise<OrganizationView> {
    const organization = await this.access.organization(this.orm.em, actorId, organizationId, 'org:view');
    return { organization, role: await this.roleOf(this.orm.em, organization, actorId) };
  }

  /** Changing the billing email needs org:billing_update on top of org:update; either refusal changes nothing. */
  async update(actorId: string, organizationId: string, changes: OrganizationChanges): Promise<Written<OrganizationView>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:update');
      if (changes.billingEmail !== undefined) {
        await this.access.requireOnOrganization(found, actorId, 'org:billing_update');
      }
      const requirement = await this.mfaRequirementChange(em, actorId, found, changes.requireMfa);
      const audit = this.updateEvent(actorId, found, 'org.updated', changes);
      em.assign(found, definedOnly(changes));
      return { result: { organization: found, role: await this.roleOf(em, found, actorId) }, audit, writeBeforeCommit: requirement };
    });
  }

  /**
   * The tuples that turn the second-factor requirement on or off, in force before the answer
   * (turning it on takes access away). Whoever turns it on must have a factor themselves (409),
   * or the change would lock them out at once.
   */
  private async mfaRequirementChange(
    em: EntityManager,
    actorId: string,
    organization: Organization,
    requireMfa: boolean | undefined,
  ): Promise<RelationshipUpdate[]> {
    if (requireMfa === undefined || requireMfa === organization.requireMfa) return [];
    if (requireMfa && !(await hasConfirmedFactor(em, actorId))) {
      throw new Conflict('Enable a second factor on your own account before requiring one of every member');
    }
    return mfaRequirementTuples(organization.id).map((relationship) => ({ operation: requireMfa ? 'touch' : 'delete', relationship }));
  }

  /**
   * Deletes the organization and, by cascade, its workspaces, teams and memberships; removes from
   * SpiceDB every tuple of the organization, its workspaces and teams, and the resources under them.
   */
  async delete(actorId: string, organizationId: string): Promise<Written<void>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:delete');
      const workspaces = await em.find(Workspace, { organization: found }, { fields: ['id'] });
      const shared = await sharedResourcesUnder(em, workspaces.map((workspace) => workspace.id));
      const teams = await em.find(Team, { organization: found }, { fields: ['id'] });
      const moduleTuples = await forgetModuleTuplesNaming(em, [
        { type: 'organization', id: found.id },
        ...workspaces.map(({ id }) => ({ type: 'workspace', id })),
        ...teams.map(({ id }) => ({ type: 'team', id })),
      ]);
      const customRoles = await organizationRoleFilters(em, found.id);
      await em.nativeDelete(Organization, { id: found.id });
      return {
        result: undefined,
        supersede: { organization: found.id },
        deleteBeforeCommit: [
          { resourceType: 'organization', resourceId: found.id },
          ...workspaces.flatMap((workspace) => workspaceTupleFilters(workspace.id)),
          ...shared.map(({ type, id }) => ({ resourceType: type, resourceId: id })),
          ...teams.flatMap((team) => teamTupleFilters(team.id)),
          ...moduleTuples,
          ...customRoles,
        ],
        deletesOrganization: true,
        audit: [{ actor: userActor(actorId), action: 'org.deleted', target: { type: 'organization', id: found.id }, changes: { name: [found.name, null] } }],
      };
    });
  }

  async billing(actorId: string, organizationId: string): Promise<Billing> {
    const organization = await this.access.organization(this.orm.em, actorId, organizationId, 'org:billing');
    return this.billingOf(this.orm.em, organization);
  }

  async updateBilling(actorId: string, organizationId: string, changes: Pick<OrganizationChanges, 'billingEmail'>): Promise<Written<Billing>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:billing_update');
      const audit = this.updateEvent(actorId, found, 'org.billing.updated', changes);
      em.assign(found, definedOnly(changes));
      return { result: await this.billingOf(em, found), audit };
    });
  }

  /**
   * The new owner must already be a member; the old owner becomes an admin. Both rows change in
   * one transaction under the organization's lock, and both tuples in one atomic SpiceDB write.
   */
  async transferOwnership(actorId: string, organizationId: string, newOwnerId: string): Promise<Written<OrganizationView>> {
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:transfer_ownership');
      const previous = await em.findOneOrFail(OrganizationMembership, { organization: found, role: 'owner' });
      const next = await em.findOne(OrganizationMembership, { organization: found, user: newOwnerId });
      if (!next) throw new ValidationFailed([{ field: 'body.user_id', message: 'is not a member of this organization' }]);
      if (next.id === previous.id) throw new BadRequest('That user already owns the organization');
      const [previousBefore, nextBefore] = [organizationRoleTuple(previous), organizationRoleTuple(next)];
      // Demote first: the one-owner index is checked row by row.
      await em.nativeUpdate(OrganizationMembership, { id: previous.id }, { role: 'admin' });
      await em.nativeUpdate(OrganizationMembership, { id: next.id }, { role: 'owner' });
      await em.refresh(previous);
      await em.refresh(next);
      return {
        result: { organization: found, role: await this.roleOf(em, found, actorId) },
        writeBeforeCommit: [
          ...roleChange(previousBefore, organizationRoleTuple(previous)),
          ...roleChange(nextBefore, organizationRoleTuple(next)),
        ],
        audit: [
          {
            actor: userActor(actorId),
            action: 'org.ownership_transferred',
            target: { type: 'organization', id: found.id },
            changes: { owner: [previous.user.id, next.user.id] },
          },
        ],
      };
    });
  }

  limitsOf(organization: Organization): PlanLimits {
    return this.planLimits[organization.subscriptionTier];
  }

  /** 402 when the organization's plan has no room for one more member or workspace. */
  async assertRoomFor(em: EntityManager, organization: Organization, kind: 'members' | 'workspaces'): Promise<void> {
    const limit = this.limitsOf(organization)[kind];
    if (limit === null) return;
    const used = kind === 'members' ? await this.seatsTaken(em, organization) : await em.count(Workspace, { organization });
    if (used >= limit) throw new PaymentRequired(`The ${organization.subscriptionTier} plan allows at most ${limit} ${kind}`);
  }

  /** One event naming the fields that really change; none when nothing does. */
  private updateEvent(actorId: string, organization: Organization, action: string, changes: OrganizationChanges): AuditEntry[] {
    const changed = changedFields(
      {
        name: organization.name,
        default_workspace_role: organization.defaultWorkspaceRole,
        billing_email: organization.billingEmail,
        require_mfa: organization.requireMfa,
      },
      { name: changes.name, default_workspace_role: changes.defaultWorkspaceRole, billing_email: changes.billingEmail, require_mfa: changes.requireMfa },
    );
    if (Object.keys(changed).length === 0) return [];
    return [{ actor: userActor(actorId), action, target: { type: 'organization', id: organization.id }, changes: changed }];
  }

  /** Members plus pending, unexpired invitations: an invitation holds a seat until it is answered or expires. */
  private async seatsTaken(em: EntityManager, organization: Organization): Promise<number> {
    const members = await em.count(OrganizationMembership, { organization });
    const invited = await em.count(Invitation, { organization, state: 'pending', expiresAt: { $gt: new Date() } });
    return members + invited;
  }

  private async billingOf(em: EntityManager, organization: Organization): Promise<Billing> {
    // One after another: inside a transaction they share one connection.
    const members = await em.count(OrganizationMembership, { organization });
    const workspaces = await em.count(Workspace, { organization });
    return {
      subscriptionTier: organization.subscriptionTier,
      billingEmail: organization.billingEmail,
      usage: { members, workspaces },
      limits: this.limitsOf(organization),
    };
  }

  private async roleOf(em: EntityManager, organization: Organization, userId: string): Promise<OrganizationRole | null> {
    const membership = await em.findOne(OrganizationMembership, { organization, user: userId });
    return membership?.role ?? null;
  }
}

function definedOnly<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function listedView(row: ListedMembershipRow): OrganizationView {
  return {
    organization: {
      id: row.organization_id,
      name: row.name,
      billingEmail: row.billing_email,
      subscriptionTier: row.subscription_tier,
      defaultWorkspaceRole: row.default_workspace_role,
      requireMfa: row.require_mfa,
      createdAt: new Date(row.organization_created_at),
      updatedAt: new Date(row.organization_updated_at),
    },
    role: row.role,
  };
}
