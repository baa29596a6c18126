import type { EntityManager } from '@mikro-orm/postgresql';
import { userActor } from '../audit/audit-log.ts';
import { refused, type TenantAccess } from '../authz/access.ts';
import { CATALOGUE_NAMES, isCatalogueName, ROLE_CATALOGUE, type CatalogueName } from '../authz/role-catalogue.ts';
import { customRoleTupleFilters, customRoleTuples, roleGrantTuple } from '../authz/role-relationships.ts';
import type { GraphChange, TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import { CustomRole, CustomRoleAssignment, type Organization } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, PaymentRequired, ValidationFailed } from '../errors.ts';
import type { OrganizationService } from './organization.service.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';
import type { RoleEscalationGuard } from './role-escalation.ts';

export interface NewCustomRole {
  name: string;
  description?: string | null | undefined;
  permissions: string[];
}

export interface CustomRoleChanges {
  name?: string | undefined;
  description?: string | null | undefined;
  permissions?: string[] | undefined;
}

export interface CatalogueEntry {
  name: CatalogueName;
  description: string;
}

/**
 * An organization's custom roles (issue 34). Everyone in the organization sees them (org:view);
 * org:manage_roles defines, changes and deletes them, never past what the actor holds
 * (RoleEscalationGuard), up to the plan's `custom_roles`. A role is data: creating or editing one
 * writes tuples, and an edit reaches every holder in the same write.
 */
export class CustomRoleService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly access: TenantAccess;
  private readonly organizations: OrganizationService;
  private readonly escalation: RoleEscalationGuard;

  constructor(orm: Orm, unitOfWork: TenantUnitOfWork, access: TenantAccess, organizations: OrganizationService, escalation: RoleEscalationGuard) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.access = access;
    this.organizations = organizations;
    this.escalation = escalation;
  }

  /** What a role may grant (org:view: every member may read it). */
  async catalogue(actorId: string, organizationId: string): Promise<CatalogueEntry[]> {
    await this.access.organization(this.orm.em, actorId, organizationId, 'org:view');
    return CATALOGUE_NAMES.map((name) => ({ name, description: ROLE_CATALOGUE[name].description }));
  }

  async create(actorId: string, organizationId: string, input: NewCustomRole): Promise<Written<CustomRole>> {
    const permissions = catalogueNames(input.permissions);
    return this.unitOfWork.inOrganization(organizationId, async (em, organization) => {
      const found = await this.access.requireOnOrganization(organization, actorId, 'org:manage_roles');
      await this.escalation.assertHoldsAll(actorId, found, permissions);
      // Counted under the organization's lock: concurrent creations cannot pass the plan together.
      const limit = this.organizations.limitsOf(found).custom_roles;
      if (limit !== null && (await em.count(CustomRole, { organization: found })) >= limit) {
        throw new PaymentRequired(`The ${found.subscriptionTier} plan allows at most ${limit} custom roles`);
      }
      await this.assertNameFree(em, found, input.name);
      const role = new CustomRole(found, input.name, input.description ?? null, permissions);
      em.persist(role);
      await em.flush();
      return {
        result: role,
        grantAfterCommit: customRoleTuples(role),
        audit: [
          {
            actor: userActor(actorId),
            action: 'org.role.created',
            target: { type: 'role', id: role.id },
            changes: { name: [null, role.name], description: [null, role.description], permissions: [null, role.permissions] },
          },
        ],
      };
    });
  }

  async list(actorId: string, organizationId: string, page: PageRequest): Promise<Page<CustomRole>> {
    const organization = await this.access.organization(this.orm.em, actorId, organizationId, 'org:view');
    const roles = await this.orm.em.find(CustomRole, { organization, ...afterKeyset(page.after) }, pageOptions(page));
    return toPage(roles, page.limit, (role) => role);
  }

  async get(actorId: string, roleId: string): Promise<CustomRole> {
    const role = await this.orm.em.findOne(CustomRole, { id: roleId }, { populate: ['organization'] });
    if (!role) throw refused('org:view');
    await this.access.require(actorId, 'org:view', role.organization.id, role.organization);
    return role;
  }

  /**
   * A permission taken away is in force before the commit (a revocation); one added reaches the
   * holders through the outbox. The actor must hold every permission the role grants before and
   * after, and at least what each of its holders holds.
   */
  async update(actorId: string, roleId: string, changes: CustomRoleChanges): Promise<Written<CustomRole>> {
    const permissions = changes.permissions === undefined ? undefined : catalogueNames(changes.permissions);
    return this.inRole(actorId, roleId, async (em, role) => {
      const before = role.permissions.filter(isCatalogueName);
      const after = permissions ?? before;
      await this.escalation.assertHoldsAll(actorId, role.organization, [...before, ...after]);
      await this.escalation.assertOutranksAll(actorId, role.organization, await this.userHoldersOf(em, role));
      if (changes.name !== undefined && changes.name !== role.name) await this.assertNameFree(em, role.organization, changes.name);
      const removed = before.filter((name) => !after.includes(name));
      const added = after.filter((name) => !before.includes(name));
      const audited: Record<string, [unknown, unknown]> = {};
      if (changes.name !== undefined && changes.name !== role.name) audited['name'] = [role.name, changes.name];
      if (changes.description !== undefined && changes.description !== role.description) audited['description'] = [role.description, changes.description];
      if (removed.length + added.length > 0) audited['permissions'] = [role.permissions, after];
      if (changes.name !== undefined) role.name = changes.name;
      if (changes.description !== undefined) role.description = changes.description;
      role.permissions = after;
      return {
        result: role,
        writeBeforeCommit: removed.map((name) => ({ operation: 'delete' as const, relationship: roleGrantTuple(role.id, ROLE_CATALOGUE[name].relation) })),
        grantAfterCommit: added.map((name) => roleGrantTuple(role.id, ROLE_CATALOGUE[name].relation)),
        audit: Object.keys(audited).length ? [{ actor: userActor(actorId), action: 'org.role.updated', target: { type: 'role', id: role.id }, changes: audited }] : [],
      };
    });
  }

  /** Deletes the role and every assignment of it; every tuple about it and its bindings is gone before the commit. */
  async delete(actorId: string, roleId: string): Promise<Written<void>> {
    return this.inRole(actorId, roleId, async (em, role) => {
      await this.escalation.assertHoldsAll(actorId, role.organization, role.permissions.filter(isCatalogueName));
      await this.escalation.assertOutranksAll(actorId, role.organization, await this.userHoldersOf(em, role));
      const bindings = await em.find(CustomRoleAssignment, { role, workspace: { $ne: null } }, { fields: ['id'] });
      const bindingIds = bindings.map((binding) => binding.id);
      const gone = [{ type: 'role', id: role.id }, ...bindingIds.map((id) => ({ type: 'role_binding', id }))];
      await em.nativeDelete(CustomRole, { id: role.id });
      return {
        result: undefined,
        supersede: { resources: gone, subjects: gone },
        deleteBeforeCommit: customRoleTupleFilters(role, bindingIds),
        audit: [
          {
            actor: userActor(actorId),
            action: 'org.role.deleted',
            target: { type: 'role', id: role.id },
            changes: { name: [role.name, null], permissions: [role.permissions, null] },
          },
        ],
      };
    });
  }

  /**
   * Runs a change to a role under its organization's lock, once the actor holds org:manage_roles.
   * The role is read again under the lock; one that does not exist is refused as one the actor cannot see.
   */
  async inRole<T>(actorId: string, roleId: string, work: (em: EntityManager, role: CustomRole) => Promise<GraphChange<T>>): Promise<Written<T>> {
    const located = await this.orm.em.fork().findOne(CustomRole, { id: roleId }, { fields: ['organization'] });
    if (!located) throw refused('org:manage_roles');
    return this.unitOfWork.inOrganization(located.organization.id, async (em, organization) => {
      const role = organization && (await em.findOne(CustomRole, { id: roleId, organization }, { populate: ['organization'] }));
      if (!role) throw refused('org:manage_roles');
      await this.access.requireOnOrganization(role.organization, actorId, 'org:manage_roles');
      return work(em, role);
    });
  }

  /** The users who hold the role themselves (a team's members are not read one by one). */
  private async userHoldersOf(em: EntityManager, role: CustomRole): Promise<string[]> {
    const assignments = await em.find(CustomRoleAssignment, { role, user: { $ne: null } }, { fields: ['user'] });
    return assignments.flatMap((assignment) => (assignment.user ? [assignment.user.id] : []));
  }

  private async assertNameFree(em: EntityManager, organization: Organization, name: string): Promise<void> {
    if (await em.findOne(CustomRole, { organization, name })) throw new Conflict('The organization already has a role with that name');
  }
}

/** The catalogue names, sorted and without repeats; 422 naming each one the catalogue lacks. */
export function catalogueNames(requested: string[]): CatalogueName[] {
  const unknown = requested.flatMap((name, index) => (isCatalogueName(name) ? [] : [{ name, index }]));
  if (unknown.length > 0) {
    throw new ValidationFailed(
      unknown.map(({ name, index }) => ({ field: `body.permissions.${index}`, message: `${name} is not a permission a custom role may grant (GET .../roles/catalogue)` })),
      `Unknown permission: ${unknown.map(({ name }) => name).join(', ')}`,
    );
  }
  return [...new Set(requested as CatalogueName[])].sort();
}
