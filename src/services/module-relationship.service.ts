import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAuditEvents, appendSubjectAuditEvent, OPERATOR, type AuditEntry } from '../audit/audit-log.ts';
import { refused, type TenantAccess } from '../authz/access.ts';
import { forgetModuleTuples, organizationsOfModuleObjects, recordModuleTuples, type ModuleTuple } from '../authz/module-relationships.ts';
import { isModuleType } from '../authz/object-ids.ts';
import type { RelationshipOutbox } from '../authz/outbox.ts';
import type { OutboxRelay } from '../authz/outbox-relay.ts';
import type { PermissionName } from '../authz/permissions.ts';
import { moduleOfType, type Policy } from '../authz/policy-modules.ts';
import { tupleKey } from '../authz/relationships.ts';
import type { SpiceDbClient } from '../authz/spicedb.client.ts';
import type { ObjectRef, Relationship, ZedToken } from '../authz/types.ts';
import { Organization, Team, Workspace, type ServiceAccount } from '../db/entities/index.ts';
import { isCanonicalUuid } from '../db/ids.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, Forbidden, ValidationFailed, type FieldError } from '../errors.ts';
import { inScope } from './service-account-scope.ts';

/**
 * The tenant objects a module relationship can attach a module object to, and what the user a
 * service acts for must hold on each: the rule resource registration follows (`workspace:edit`
 * on the workspace), and for a whole organization what creating a workspace in it asks.
 */
const ATTACHMENT_PERMISSIONS: Record<string, PermissionName> = {
  workspace: 'workspace:edit',
  team: 'team:view',
  organization: 'org:create_workspace',
};

/**
 * Who writes module relationships: a service account, or the operator's import (`relationships
 * import`, id null), which writes as a trusted account of that one module would.
 */
export type ModuleWriter = Pick<ServiceAccount, 'name' | 'modules' | 'trusted' | 'organizationIds'> & { id: string | null };

export function operatorImporting(module: string): ModuleWriter {
  return { id: null, name: 'the operator', modules: [module], trusted: true, organizationIds: null };
}

export interface ModuleWriteResult {
  /** The ZedToken of the SpiceDB write; empty when nothing was written. */
  writtenAt: ZedToken;
  /** Relationships newly recorded (touch) or removed (delete). */
  changed: number;
}

/**
 * Relationships of policy-module types, written by the module's own service accounts: recorded in
 * Postgres (the system of record), grants delivered through the outbox after the commit,
 * deletions written to SpiceDB before it. A relationship that attaches a module object to a
 * tenant object (its subject a workspace, team or organization) obeys what resource registration
 * obeys: the user the service acts for holds the permission there (or the account is trusted),
 * a module object belongs to one organization, and a scoped account stays in its organizations.
 */
export class ModuleRelationshipService {
  private readonly orm: Orm;
  private readonly spicedb: SpiceDbClient;
  private readonly outbox: RelationshipOutbox;
  private readonly relay: OutboxRelay;
  private readonly access: TenantAccess;
  private readonly policy: Policy;

  constructor(orm: Orm, spicedb: SpiceDbClient, outbox: RelationshipOutbox, relay: OutboxRelay, access: TenantAccess, policy: Policy) {
    this.orm = orm;
    this.spicedb = spicedb;
    this.outbox = outbox;
    this.relay = relay;
    this.access = access;
    this.policy = policy;
  }

  /**
   * Refuses, before anything is read: a type the composed schema lacks or a relation or subject it
   * does not allow (422, naming the field), a core type or another module's (403).
   */
  assertWritable(account: ModuleWriter, relationships: Relationship[], at: string): void {
    const errors: FieldError[] = [];
    const foreign = new Set<string>();
    relationships.forEach(({ resource, relation, subject }, index) => {
      const field = `${at}.${index}`;
      const definition = this.policy.model.get(resource.type);
      if (!definition) return void errors.push({ field: `${field}.resource.type`, message: 'is not a type of the schema' });
      const module = moduleOfType(resource.type);
      if (module === undefined || !account.modules.includes(module)) return void foreign.add(module ?? resource.type);
      const forms = definition.subjects.get(relation);
      if (!forms) return void errors.push({ field: `${field}.relation`, message: `is not a relation of ${resource.type}` });
      const form = subject.id === '*' ? `${subject.type}:*` : subject.relation ? `${subject.type}#${subject.relation}` : subject.type;
      if (!forms.has(form)) {
        return void errors.push({ field: `${field}.subject`, message: `must be ${[...forms].join(' or ')} for ${resource.type}#${relation}` });
      }
      if (!isModuleType(subject.type) && subject.id !== '*' && !isCanonicalUuid(subject.id)) {
        errors.push({ field: `${field}.subject.id`, message: `is not a ${subject.type} id` });
      }
    });
    if (foreign.size > 0) throw new Forbidden(`Service account ${account.name} may not write ${[...foreign].join(', ')} relationships`);
    if (errors.length > 0) throw new ValidationFailed(errors);
  }

  /**
   * `deliver: false` leaves the grants in the outbox for the relay of the instance that serves
   * SpiceDB (the CLI's import beside a service with an embedded SpiceDB).
   */
  async write(
    account: ModuleWriter,
    operation: 'touch' | 'delete',
    relationships: Relationship[],
    onBehalfOf: string | undefined,
    options: { at?: string; deliver?: boolean } = {},
  ): Promise<ModuleWriteResult> {
    const at = options.at ?? 'body.relationships';
    this.assertWritable(account, relationships, at);
    const distinct = [...new Map(relationships.map((relationship) => [tupleKey(relationship), relationship])).values()];
    const attachments = distinct.filter(({ subject }) => Object.hasOwn(ATTACHMENT_PERMISSIONS, subject.type));
    if (attachments.length > 0 && !onBehalfOf && !account.trusted) {
      throw new Forbidden(`Service account ${account.name} must name the user it acts for (on_behalf_of); only trusted accounts may write for no one`);
    }
    const tenants = attachments.map(({ subject }) => ({ type: subject.type, id: subject.id }));
    const organizations = await this.organizationsOf(this.orm.em.fork(), tenants, onBehalfOf);
    let pending: string[] = [];
    const home = [...new Set(organizations.values())].sort()[0] ?? null;
    const outcome = await this.orm.em.fork().transactional(async (em) => {
      const locked = await em.find(
        Organization,
        { id: { $in: [...new Set(organizations.values())] } },
        { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
      );
      // Under the locks: a workspace or team deleted meanwhile is gone for this write too.
      const current = await this.organizationsOf(em, tenants, onBehalfOf);
      for (const tenant of tenants) {
        const organization = locked.find(({ id }) => id === current.get(key(tenant)));
        if (!organization) throw this.notTenant(tenant, onBehalfOf);
        if (!inScope(account, organization.id)) throw outOfScope(account);
        const permission = ATTACHMENT_PERMISSIONS[tenant.type];
        if (onBehalfOf && permission) await this.access.require(onBehalfOf, permission, tenant.id, organization);
      }
      await this.assertModuleObjectsInScope(em, account, distinct, operation === 'touch' ? current : new Map());
      if (operation === 'delete') {
        const forgotten = await forgetModuleTuples(em, distinct);
        await auditModuleChange(em, account, onBehalfOf, 'module.relationships.deleted', forgotten, home ?? (await soleOrganizationOf(em, distinct)));
        await this.outbox.supersedePending(em, distinct);
        // Everything asked goes from SpiceDB, recorded or not: a stray tuple is removed too.
        const writtenAt = await this.spicedb.writeRelationships(distinct.map((relationship) => ({ operation: 'delete', relationship })));
        for (const organization of locked) organization.zedToken = writtenAt;
        return { writtenAt, changed: forgotten.length };
      }
      const tuples: ModuleTuple[] = distinct.map((relationship) => ({
        relationship,
        organizationId: Object.hasOwn(ATTACHMENT_PERMISSIONS, relationship.subject.type) ? (current.get(key(relationship.subject)) ?? null) : null,
      }));
      // Only what is new goes out: a relationship already recorded was delivered when it was
      // (or waits in the outbox still), and reconcile repairs SpiceDB otherwise.
      const added = await recordModuleTuples(em, tuples, account.id);
      await auditModuleChange(em, account, onBehalfOf, 'module.relationships.written', added, home ?? (await soleOrganizationOf(em, distinct)));
      pending = await this.outbox.enqueueGrants(em, added, home);
      return { writtenAt: '', changed: added.length };
    });
    if (operation === 'delete' || options.deliver === false) return outcome;
    return { writtenAt: (await this.relay.deliver(pending, home)) ?? '', changed: outcome.changed };
  }

  /**
   * A module object belongs to at most one organization: the one of the tenant objects it is
   * attached to. A scoped account names only objects of its organizations; an attachment may
   * not move an object into a second organization.
   */
  private async assertModuleObjectsInScope(
    em: EntityManager,
    account: ModuleWriter,
    relationships: Relationship[],
    attachingTo: Map<string, string>,
  ): Promise<void> {
    const objects = relationships.flatMap(({ resource, subject }) => [resource, ...(isModuleType(subject.type) ? [subject] : [])]);
    const owners = await organizationsOfModuleObjects(em, objects);
    for (const relationship of relationships) {
      const attachedTo = attachingTo.get(key(relationship.subject));
      if (attachedTo === undefined) continue;
      const resource = key(relationship.resource);
      const known = owners.get(resource) ?? new Set();
      if ([...known].some((organization) => organization !== attachedTo)) {
        throw new Conflict(`${resource} belongs to another organization: a module object is attached to one tenant`);
      }
      owners.set(resource, known.add(attachedTo));
    }
    for (const organizationsOfObject of owners.values()) {
      if ([...organizationsOfObject].some((organization) => !inScope(account, organization))) throw outOfScope(account);
    }
  }

  /** The organization of each workspace, team and organization named, by `type:id`; unknown ones are absent. */
  private async organizationsOf(em: EntityManager, tenants: ObjectRef[], onBehalfOf: string | undefined): Promise<Map<string, string>> {
    const idsOf = (type: string) => [...new Set(tenants.filter((tenant) => tenant.type === type).map((tenant) => tenant.id))];
    const found = new Map<string, string>();
    for (const workspace of await em.find(Workspace, { id: { $in: idsOf('workspace') } }, { fields: ['organization'] })) {
      found.set(key({ type: 'workspace', id: workspace.id }), workspace.organization.id);
    }
    for (const team of await em.find(Team, { id: { $in: idsOf('team') } }, { fields: ['organization'] })) {
      found.set(key({ type: 'team', id: team.id }), team.organization.id);
    }
    for (const organization of await em.find(Organization, { id: { $in: idsOf('organization') } }, { fields: ['id'] })) {
      found.set(key({ type: 'organization', id: organization.id }), organization.id);
    }
    const missing = tenants.find((tenant) => !found.has(key(tenant)));
    if (missing) throw this.notTenant(missing, onBehalfOf);
    return found;
  }

  /** For a user, a missing workspace is refused exactly like one they may not edit; a trusted backfill learns it is missing. */
  private notTenant(tenant: ObjectRef, onBehalfOf: string | undefined): Error {
    const permission = ATTACHMENT_PERMISSIONS[tenant.type];
    if (onBehalfOf && permission) return refused(permission);
    return new ValidationFailed([{ field: 'body.relationships', message: `${tenant.type}:${tenant.id} is not a ${tenant.type}` }]);
  }
}

function key(object: ObjectRef): string {
  return `${object.type}:${object.id}`;
}

function outOfScope(account: ModuleWriter): Forbidden {
  return new Forbidden(`Service account ${account.name} may act only in its own organizations`);
}

/**
 * The one organization the written objects belong to (through their attachments), locked for its
 * audit chain; null when they belong to none, or to several.
 */
async function soleOrganizationOf(em: EntityManager, relationships: Relationship[]): Promise<string | null> {
  const owners = await organizationsOfModuleObjects(em, relationships.map(({ resource }) => resource));
  const organizations = new Set([...owners.values()].flatMap((ids) => [...ids]));
  const [only] = organizations;
  if (organizations.size !== 1 || !only) return null;
  const locked = await em.findOne(Organization, { id: only }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  return locked ? only : null;
}

/** Audited tuples per event: an import's batch of 1,000 is one event, holding its first ones. */
const AUDITED_TUPLES = 100;

/**
 * One audit event per module a write changed: in the chain of the organization the write
 * attaches to, else in the module's own. It lists the tuples (the first hundred) and counts them;
 * a write that changed nothing records nothing.
 */
async function auditModuleChange(
  em: EntityManager,
  account: ModuleWriter,
  onBehalfOf: string | undefined,
  action: 'module.relationships.written' | 'module.relationships.deleted',
  changed: Relationship[],
  organizationId: string | null,
): Promise<void> {
  const byModule = new Map<string, Relationship[]>();
  for (const relationship of changed) {
    const module = moduleOfType(relationship.resource.type) ?? '';
    byModule.set(module, [...(byModule.get(module) ?? []), relationship]);
  }
  for (const [module, relationships] of [...byModule].sort(([a], [b]) => a.localeCompare(b))) {
    const entry: AuditEntry = {
      actor: account.id ? { type: 'service_account', id: account.id } : OPERATOR,
      onBehalfOf: onBehalfOf ? { type: 'user', id: onBehalfOf } : null,
      action,
      target: { type: 'policy_module', id: module },
      changes: { count: [null, relationships.length], relationships: [null, relationships.slice(0, AUDITED_TUPLES).map(tupleKey)] },
    };
    if (organizationId) await appendAuditEvents(em, organizationId, [entry]);
    else await appendSubjectAuditEvent(em, entry);
  }
}
