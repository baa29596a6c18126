import type { EntityManager } from '@mikro-orm/postgresql';
import { organizationsOfModuleObjects } from '../authz/module-relationships.ts';
import { isModuleType } from '../authz/object-ids.ts';
import type { ObjectRef } from '../authz/types.ts';
import { Organization, Resource, Workspace, type ServiceAccount } from '../db/entities/index.ts';
import { isCanonicalUuid } from '../db/ids.ts';
import { Forbidden } from '../errors.ts';

/**
 * A service account limited to named organizations (for single-tenant integrations) reads and
 * writes only inside them: every object it names must resolve to one of them. An object that
 * resolves to none (unknown, or of another tenant) is refused alike.
 */

export function inScope(account: Pick<ServiceAccount, 'organizationIds'>, organizationId: string | null): boolean {
  return account.organizationIds === null || (organizationId !== null && account.organizationIds.includes(organizationId));
}

export function assertInScope(account: ServiceAccount, organizationId: string | null): void {
  if (!inScope(account, organizationId)) throw outOfScope(account);
}

/** Refuses the request unless every object belongs to one of the account's organizations. */
export async function assertObjectsInScope(em: EntityManager, account: ServiceAccount, objects: ObjectRef[]): Promise<void> {
  if ((await objectsInScope(em, account, objects)).includes(false)) throw outOfScope(account);
}

/** For each object, whether it belongs to one of the account's organizations. */
export async function objectsInScope(em: EntityManager, account: ServiceAccount, objects: ObjectRef[]): Promise<boolean[]> {
  if (account.organizationIds === null) return objects.map(() => true);
  const owners = await organizationsOf(em, objects);
  return objects.map((object) => inScope(account, owners.get(key(object)) ?? null));
}

/** The ids, among `ids` of one type, that belong to the account's organizations. */
export async function idsInScope(em: EntityManager, account: ServiceAccount, type: string, ids: string[]): Promise<string[]> {
  if (account.organizationIds === null) return ids;
  const owners = await organizationsOf(em, ids.map((id) => ({ type, id })));
  return ids.filter((id) => inScope(account, owners.get(key({ type, id })) ?? null));
}

/** The organization each object belongs to, by `type:id`; objects of no organization are absent. */
async function organizationsOf(em: EntityManager, objects: ObjectRef[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  const idsOf = (type: string) => [...new Set(objects.filter((object) => object.type === type).map((object) => object.id))];
  const uuids = (ids: string[]) => ids.filter(isCanonicalUuid);
  for (const organization of await em.find(Organization, { id: { $in: uuids(idsOf('organization')) } }, { fields: ['id'] })) {
    owners.set(key({ type: 'organization', id: organization.id }), organization.id);
  }
  for (const workspace of await em.find(Workspace, { id: { $in: uuids(idsOf('workspace')) } }, { fields: ['organization'] })) {
    owners.set(key({ type: 'workspace', id: workspace.id }), workspace.organization.id);
  }
  // A policy module's object belongs to the organization it is attached to (module-relationships.ts).
  for (const [object, organizations] of await organizationsOfModuleObjects(em, objects.filter(({ type }) => isModuleType(type)))) {
    const [only] = organizations;
    if (organizations.size === 1 && only) owners.set(object, only);
  }
  const others = objects.filter((object) => object.type !== 'organization' && object.type !== 'workspace' && !isModuleType(object.type));
  if (others.length > 0) {
    const resources = await em.find(Resource, { $or: others.map(({ type, id }) => ({ type, id })) });
    for (const resource of resources) owners.set(key(resource), resource.organizationId);
  }
  return owners;
}

function key(object: ObjectRef): string {
  return `${object.type}:${object.id}`;
}

export function outOfScope(account: ServiceAccount): Forbidden {
  return new Forbidden(`Service account ${account.name} may act only in its own organizations`);
}
