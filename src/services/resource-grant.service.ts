import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditEntry } from '../audit/audit-log.ts';
import { refused, type TenantAccess } from '../authz/access.ts';
import { endOf, EVERY_USER, GRANTEE_TYPES, mayGrant, resourceGrantTuple, SCHEMA_MODEL, type GranteeType } from '../authz/relationships.ts';
import type { GraphChange, TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import { Resource, ResourceGrant, Team, type GrantRole, type Organization, type ServiceAccount } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { NotFound, ValidationFailed } from '../errors.ts';
import { afterKeyset, pageOptions, toPage, type Page, type PageRequest } from './pagination.ts';
import { assertMayWrite, assertServiceOwned, notRegistered, permissionOn, type ResourceRef } from './resource.service.ts';
import { inScope } from './service-account-scope.ts';

export interface Grantee {
  type: GranteeType;
  /** An id of that type, or `*` (EVERY_USER) for every user. */
  id: string;
}

export interface GrantInput {
  subject: Grantee;
  role: GrantRole;
  /** Validated at the edge: in the future, at most a year ahead. Absent: never expires. */
  expiresAt?: Date | undefined;
  onBehalfOf?: string | undefined;
}

export interface RevokeInput {
  subject: Grantee;
  role: GrantRole;
  onBehalfOf?: string | undefined;
}

export interface GrantResult {
  grant: ResourceGrant;
  /** False when an existing grant had its expiry replaced. */
  created: boolean;
}

/**
 * Direct grants on service-owned resources: a row in resource_grants and its tuple in SpiceDB,
 * kept in step by the tenant unit of work. The caller rules are the resource service's: a service
 * account writes for the user who clicked (`onBehalfOf`), who needs `<type>:share` on the
 * resource; only a trusted account may write for no one; a scoped account stays in its
 * organizations; a missing resource is refused exactly like a hidden one.
 *
 * A grantee need not belong to the resource's organization: sharing with someone outside it is
 * the point of a direct grant (a guest, a contractor; give them an `expires_at`). A grant belongs
 * to the resource, not to a membership, so it stays when the resource moves and when its holder
 * leaves the organization, and goes when the resource is deleted.
 */
export class ResourceGrantService {
  private readonly orm: Orm;
  private readonly unitOfWork: TenantUnitOfWork;
  private readonly access: TenantAccess;

  constructor(orm: Orm, unitOfWork: TenantUnitOfWork, access: TenantAccess) {
    this.orm = orm;
    this.unitOfWork = unitOfWork;
    this.access = access;
  }

  /**
   * Grants the role, or replaces the expiry of the same grant. A grant reaches SpiceDB after the
   * commit; an expiry moved earlier takes access away, so it is written before, like a revocation.
   */
  async grant(account: ServiceAccount, ref: ResourceRef, input: GrantInput): Promise<Written<GrantResult>> {
    assertMayWrite(account, ref.type, input.onBehalfOf);
    if (input.subject.id === EVERY_USER && input.role !== 'viewer') {
      throw new ValidationFailed([{ field: 'body.role', message: 'must be viewer for every user (subject id *): public access is read-only' }]);
    }
    if (!mayGrant(SCHEMA_MODEL, ref.type, input.role, input.subject)) {
      throw new ValidationFailed([
        { field: 'params.type', message: `${ref.type} cannot be shared as ${input.role} with ${describeGrantee(input.subject)} (see schema.zed)` },
      ]);
    }
    return this.onResource(account, ref, input.onBehalfOf, async (em, organization) => {
      await assertGranteeExists(em, input.subject, organization);
      const existing = await em.findOne(ResourceGrant, grantKey(ref, input));
      const expiresAt = input.expiresAt ?? null;
      // The end of the access this grant replaces; undefined when there is none (or it has expired).
      const before = existing && isLive(existing) ? (existing.expiresAt ?? null) : undefined;
      const grant =
        existing ??
        new ResourceGrant({
          resourceType: ref.type,
          resourceId: ref.id,
          role: input.role,
          subjectType: input.subject.type,
          subjectId: input.subject.id,
          expiresAt,
          grantedBy: account.id,
          onBehalfOf: input.onBehalfOf ?? null,
        });
      if (existing) {
        // An expired grant is gone for everyone: granting again starts it afresh.
        if (before === undefined) existing.createdAt = new Date();
        Object.assign(existing, { expiresAt, grantedBy: account.id, onBehalfOf: input.onBehalfOf ?? null });
      }
      em.persist(grant);
      const tuple = resourceGrantTuple(grant);
      const narrows = before !== undefined && endOf(expiresAt) < endOf(before);
      return {
        result: { grant, created: before === undefined },
        ...(narrows ? { writeBeforeCommit: [{ operation: 'touch' as const, relationship: tuple }] } : { grantAfterCommit: [tuple] }),
        audit: [auditEntry(account, input.onBehalfOf, ref, 'resource.grant.added', {
          subject: [null, describeGrantee(input.subject)],
          role: [null, input.role],
          expires_at: [before === undefined ? null : (before?.toISOString() ?? 'never'), expiresAt?.toISOString() ?? 'never'],
        })],
      };
    });
  }

  /** Removes one grant, before the commit. A grant that does not exist (or has expired) is 404. */
  async revoke(account: ServiceAccount, ref: ResourceRef, input: RevokeInput): Promise<Written<void>> {
    assertMayWrite(account, ref.type, input.onBehalfOf);
    return this.onResource(account, ref, input.onBehalfOf, async (em) => {
      const grant = await em.findOne(ResourceGrant, grantKey(ref, input));
      if (!grant || !isLive(grant)) throw new NotFound(`${ref.type} ${ref.id} grants no ${input.role} to ${describeGrantee(input.subject)}`);
      em.remove(grant);
      return {
        result: undefined,
        writeBeforeCommit: [{ operation: 'delete', relationship: resourceGrantTuple(grant) }],
        audit: [auditEntry(account, input.onBehalfOf, ref, 'resource.grant.removed', {
          subject: [describeGrantee(input.subject), null],
          role: [input.role, null],
        })],
      };
    });
  }

  /** The grants in force, oldest first; a resource outside a scoped account's organizations is as unknown as a missing one. */
  async list(account: ServiceAccount, ref: ResourceRef, page: PageRequest): Promise<Page<ResourceGrant>> {
    assertServiceOwned(ref.type);
    const em = this.orm.em.fork();
    const resource = await em.findOne(Resource, { type: ref.type, id: ref.id });
    if (!resource || !inScope(account, resource.organizationId)) throw notRegistered(ref);
    const rows = await em.find(
      ResourceGrant,
      {
        resourceType: ref.type,
        resourceId: ref.id,
        $and: [{ $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }] }, afterKeyset(page.after)],
      },
      pageOptions(page),
    );
    return toPage(rows, page.limit, (row) => row);
  }

  /**
   * Runs `work` on the registered resource under its organization's lock, once the user the
   * account acts for holds `<type>:share` on it. For a user, a missing resource is refused exactly
   * like one they may not share; the account alone (trusted) learns it is not registered.
   */
  private async onResource<T>(
    account: ServiceAccount,
    ref: ResourceRef,
    onBehalfOf: string | undefined,
    work: (em: EntityManager, organization: Organization) => Promise<GraphChange<T>>,
  ): Promise<Written<T>> {
    const permission = permissionOn(ref.type, 'share');
    const unknown = () => (onBehalfOf ? refused(permission) : notRegistered(ref));
    const found = await this.orm.em.fork().findOne(Resource, { type: ref.type, id: ref.id });
    if (!found || !inScope(account, found.organizationId)) throw unknown();
    return this.unitOfWork.inOrganization(found.organizationId, async (em, organization) => {
      // Moved to another organization since the look above: its lock is not the one held.
      const resource = await em.findOne(Resource, { type: ref.type, id: ref.id, organizationId: found.organizationId });
      if (!resource || !organization) throw unknown();
      if (onBehalfOf) await this.access.require(onBehalfOf, permission, ref.id, organization);
      return work(em, organization);
    });
  }
}

function grantKey(ref: ResourceRef, input: { subject: Grantee; role: GrantRole }) {
  return { resourceType: ref.type, resourceId: ref.id, role: input.role, subjectType: input.subject.type, subjectId: input.subject.id };
}

/**
 * A user may be anyone with an account; a team must be one of the resource's organization, whose
 * admins run its membership. Another organization's team reads exactly like no team at all.
 */
async function assertGranteeExists(em: EntityManager, subject: Grantee, organization: Organization): Promise<void> {
  if (subject.id === EVERY_USER) return;
  const found =
    subject.type === 'team'
      ? await em.count(Team, { id: subject.id, organization })
      : await em.count(GRANTEE_TYPES[subject.type].entity, { id: subject.id });
  if (found === 0) {
    const message = subject.type === 'team' ? "is not a team of the resource's organization" : `is not a ${subject.type}`;
    throw new ValidationFailed([{ field: 'body.subject.id', message }]);
  }
}

function isLive(grant: ResourceGrant): boolean {
  return !grant.expiresAt || grant.expiresAt.getTime() > Date.now();
}

function describeGrantee(subject: Grantee): string {
  return `${subject.type}:${subject.id}`;
}

function auditEntry(
  account: ServiceAccount,
  onBehalfOf: string | undefined,
  ref: ResourceRef,
  action: string,
  changes: AuditEntry['changes'],
): AuditEntry {
  return { actor: { type: 'service_account', id: account.id }, onBehalfOf: onBehalfOf ? { type: 'user', id: onBehalfOf } : null, action, target: { type: ref.type, id: ref.id }, changes };
}
