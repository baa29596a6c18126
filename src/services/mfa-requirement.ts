import type { EntityManager } from '@mikro-orm/postgresql';
import { OrganizationMembership, Resource, Team, Workspace } from '../db/entities/index.ts';
import { isCanonicalUuid } from '../db/ids.ts';
import { hasConfirmedFactor } from './second-factors.ts';

/** Why an answer grants nothing: the organization requires a second factor the user has not enrolled. */
export type DenialReason = 'mfa_enrollment_required';

/**
 * Whether the user is a member of an organization that requires a second factor, and has none:
 * schema.zed then grants them nothing there. This explains a refusal; it never decides one.
 */
export async function awaitsSecondFactor(em: EntityManager, userId: string, organizationId: string): Promise<boolean> {
  if (!isCanonicalUuid(userId) || !isCanonicalUuid(organizationId)) return false;
  const membership = await em.findOne(OrganizationMembership, { user: userId, organization: organizationId }, { populate: ['organization'] });
  return membership !== null && membership.organization.requireMfa && !(await hasConfirmedFactor(em, userId));
}

/** Why a check of `userId` on `object` was denied, when the second-factor requirement explains it; else null. */
export async function denialReason(em: EntityManager, userId: string, object: { type: string; id: string }): Promise<DenialReason | null> {
  const organizationId = await organizationOf(em, object);
  return organizationId && (await awaitsSecondFactor(em, userId, organizationId)) ? 'mfa_enrollment_required' : null;
}

/** The organization an object of the tenant graph, or a registered resource, belongs to. */
async function organizationOf(em: EntityManager, object: { type: string; id: string }): Promise<string | null> {
  if (object.type === 'organization') return object.id;
  if (object.type === 'workspace' || object.type === 'team') {
    if (!isCanonicalUuid(object.id)) return null;
    const found = await em.findOne<Workspace | Team>(object.type === 'workspace' ? Workspace : Team, { id: object.id });
    return found?.organization.id ?? null;
  }
  const resource = await em.findOne(Resource, { type: object.type, id: object.id });
  return resource?.organizationId ?? null;
}
