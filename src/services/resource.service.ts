import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditChanges } from '../audit/audit-chain.ts';
import type { AuditEntry } from '../audit/audit-log.ts';
import { refused, type TenantAccess } from '../authz/access.ts';
import { isPermissionName, type PermissionName } from '../authz/permissions.ts';
import { resourceGrantTuple, resourceParentTuple, roleChange, SERVICE_OWNED_TYPES } from '../authz/relationships.ts';
import type { GraphChange, TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import { Resource, ResourceGrant, Workspace, type Organization, type ServiceAccount } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../errors.ts';
import { assertInScope, inScope } from './service-account-scope.ts';

export interface ResourceRef {
  type: string;
  id: string;
}

export interface Registration {
  /** The workspace to register the resource under, or to move it to. */
  parentWorkspaceId: string;
  /** The user the service acts for; absent only for a trusted account. */
  onBehalfOf?: string | undefined;
}

export interface RegisteredResource {
  resource: Resource;
  created: boolean;
}

/**
 * Resources other services own (chatbots, knowledge bases): a record in Postgres under exactly
 * one workspace, and its one parent tuple in SpiceDB, kept in step by the tenant unit of work.
 * A service acts for the user who clicked (`onBehalfOf`), whose permissions decide; only a
 * trusted account may write for no one. A scoped account never reaches outside its organizations.
 */
export class ResourceService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly access: TenantAccess;

  constructor(orm: Orm, unitOfWork: TenantUnitOfWork, access: TenantAccess) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.access = access;
  }

  /**
   * Registers the resource under the workspace, or moves it there: a move replaces the old parent
   * in one atomic SpiceDB write (DELETE old + TOUCH new), before the commit, like a role change.
   * The user needs `workspace:edit` on the target, and to move it away `<type>:move`, which asks
   * what deletion asks: a direct grant lets its holder use the resource, never take it.
   */
  async register(account: ServiceAccount, ref: ResourceRef, registration: Registration): Promise<Written<RegisteredResource>> {
    assertMayWrite(account, ref.type, registration.onBehalfOf);
    const target = await this.orm.em.fork().findOne(Workspace, { id: registration.parentWorkspaceId }, { fields: ['organization'] });
    if (!target) throw new ValidationFailed([{ field: 'body.parent.id', message: 'is not a workspace' }]);
    const targetOrganization = target.organization.id;
    assertInScope(account, targetOrganization);
    const current = await this.orm.em.fork().findOne(Resource, { type: ref.type, id: ref.id });
    const organizations = [targetOrganization, ...(current ? [current.organizationId] : [])];
    return this.unitOfWork.inOrganizations(organizations, async (em, locked) => {
      const existing = await em.findOne(Resource, { type: ref.type, id: ref.id });
      // Moved by someone else between the look above and the locks: its old organization is not locked.
      if (existing && !locked.has(existing.organizationId)) throw new Conflict('The resource changed meanwhile; try again');
      const home = locked.get(targetOrganization);
      if (!home || !(await em.findOne(Workspace, { id: registration.parentWorkspaceId }))) {
        throw new ValidationFailed([{ field: 'body.parent.id', message: 'is not a workspace' }]);
      }
      if (registration.onBehalfOf) {
        await this.requireOn(registration.onBehalfOf, 'workspace:edit', registration.parentWorkspaceId, home);
      }
      if (!existing) return this.create(em, account, ref, registration, targetOrganization);
      assertInScope(account, existing.organizationId);
      if (existing.workspaceId === registration.parentWorkspaceId) return { result: { resource: existing, created: false } };
      if (registration.onBehalfOf) {
        await this.requireOn(registration.onBehalfOf, permissionOn(ref.type, 'move'), ref.id, locked.get(existing.organizationId));
      }
      const before = resourceParentTuple(existing);
      const moved: AuditChanges = { workspace_id: [existing.workspaceId, registration.parentWorkspaceId] };
      const previousOrganization = existing.organizationId;
      // Teams belong to an organization: grants to the old one's teams do not move with the resource.
      const leftBehind =
        previousOrganization === targetOrganization ? [] : await em.find(ResourceGrant, { resourceType: ref.type, resourceId: ref.id, subjectType: 'team' });
      if (previousOrganization !== targetOrganization) moved.organization_id = [previousOrganization, targetOrganization];
      if (leftBehind.length > 0) moved.team_grants = [leftBehind.map((grant) => `${grant.role}@team:${grant.subjectId}`), null];
      leftBehind.forEach((grant) => em.remove(grant));
      existing.workspaceId = registration.parentWorkspaceId;
      existing.organizationId = targetOrganization;
      stamp(existing, account, registration.onBehalfOf);
      const event = resourceEvent(account, registration.onBehalfOf, 'resource.moved', ref, moved);
      return {
        result: { resource: existing, created: false },
        writeBeforeCommit: [
          ...roleChange(before, resourceParentTuple(existing)),
          ...leftBehind.map((grant) => ({ operation: 'delete' as const, relationship: resourceGrantTuple(grant) })),
        ],
        // Both organizations' access changed: each chain records the move.
        audit: previousOrganization === targetOrganization ? [event] : [event, { ...event, organizationId: previousOrganization }],
      };
    });
  }

  /** The record; a resource outside a scoped account's organizations is as unknown as a missing one. */
  async get(account: ServiceAccount, ref: ResourceRef): Promise<Resource> {
    assertServiceOwned(ref.type);
    const resource = await this.orm.em.findOne(Resource, { type: ref.type, id: ref.id });
    if (!resource || !inScope(account, resource.organizationId)) throw notRegistered(ref);
    return resource;
  }

  /** Removes the record and every tuple of the resource, before the commit. */
  async delete(account: ServiceAccount, ref: ResourceRef, onBehalfOf: string | undefined): Promise<Written<void>> {
    assertMayWrite(account, ref.type, onBehalfOf);
    const permission = permissionOn(ref.type, 'delete');
    const found = await this.orm.em.fork().findOne(Resource, { type: ref.type, id: ref.id });
    // For a user, a missing resource is refused exactly like one they may not delete.
    if (!found || !inScope(account, found.organizationId)) throw onBehalfOf ? refused(permission) : notRegistered(ref);
    return this.unitOfWork.inOrganization(found.organizationId, async (em, organization) => {
      const resource = await em.findOne(Resource, { type: ref.type, id: ref.id, organizationId: found.organizationId });
      if (!resource || !organization) throw onBehalfOf ? refused(permission) : notRegistered(ref);
      if (onBehalfOf) await this.requireOn(onBehalfOf, permission, ref.id, organization);
      em.remove(resource);
      return {
        result: undefined,
        supersede: { resources: [{ type: ref.type, id: ref.id }] },
        writeBeforeCommit: [{ operation: 'delete', relationship: resourceParentTuple(resource) }],
        // Anything else ever written about it (by an older API, or by hand) goes too.
        deleteBeforeCommit: [{ resourceType: ref.type, resourceId: ref.id }],
        audit: [resourceEvent(account, onBehalfOf, 'resource.deleted', ref, { workspace_id: [resource.workspaceId, null] })],
      };
    });
  }

  private create(
    em: EntityManager,
    account: ServiceAccount,
    ref: ResourceRef,
    registration: Registration,
    organizationId: string,
  ): GraphChange<RegisteredResource> {
    const resource = new Resource({
      ...ref,
      workspaceId: registration.parentWorkspaceId,
      organizationId,
      registeredBy: account.id,
      onBehalfOf: registration.onBehalfOf ?? null,
    });
    em.persist(resource);
    return {
      result: { resource, created: true },
      grantAfterCommit: [resourceParentTuple(resource)],
      audit: [resourceEvent(account, registration.onBehalfOf, 'resource.registered', ref, { workspace_id: [null, registration.parentWorkspaceId] })],
    };
  }

  /** Both organizations a change touches are locked, so the owner is always there; absent, refuse. */
  private async requireOn(userId: string, permission: PermissionName, objectId: string, owner: Organization | undefined): Promise<void> {
    if (!owner) throw refused(permission);
    await this.access.require(userId, permission, objectId, owner);
  }
}

/** A write about a resource: its type is one the account may write, and it names the user it acts for unless trusted. */
export function assertMayWrite(account: ServiceAccount, type: string, onBehalfOf: string | undefined): void {
  assertServiceOwned(type);
  if (!account.writableTypes.includes(type)) throw new Forbidden(`Service account ${account.name} may not write ${type} resources`);
  if (!onBehalfOf && !account.trusted) {
    throw new Forbidden(`Service account ${account.name} must name the user it acts for (on_behalf_of); only trusted accounts may write for no one`);
  }
}

export function assertServiceOwned(type: string): void {
  if (!SERVICE_OWNED_TYPES.includes(type)) {
    throw new ValidationFailed([{ field: 'params.type', message: `must be one of ${SERVICE_OWNED_TYPES.join(', ')}` }]);
  }
}

/** `chatbot:move` and the like: schema.zed and the registry agree one-to-one (checked at boot). */
export function permissionOn(type: string, action: 'share' | 'move' | 'delete'): PermissionName {
  const name = `${type}:${action}`;
  if (!isPermissionName(name)) throw new Error(`The permission registry has no ${name}`);
  return name;
}

export function notRegistered(ref: ResourceRef): NotFound {
  return new NotFound(`No ${ref.type} ${ref.id} is registered`);
}

function stamp(resource: Resource, account: ServiceAccount, onBehalfOf: string | undefined): void {
  resource.registeredBy = account.id;
  resource.onBehalfOf = onBehalfOf ?? null;
}

/** A service account's write, for the user it acted for (none: a trusted account's backfill). */
function resourceEvent(
  account: ServiceAccount,
  onBehalfOf: string | undefined,
  action: 'resource.registered' | 'resource.moved' | 'resource.deleted',
  ref: ResourceRef,
  changes: AuditChanges,
): AuditEntry {
  return { actor: { type: 'service_account', id: account.id }, onBehalfOf: onBehalfOf ? { type: 'user', id: onBehalfOf } : null, action, target: { type: ref.type, id: ref.id }, changes };
}
