import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { GRANT_ROLES, Organization, Resource, Workspace } from '../db/entities/index.ts';
import { isCanonicalUuid } from '../db/ids.ts';
import type { Orm } from '../db/orm.ts';
import { recordedModuleTuples } from './module-relationships.ts';
import { recordedTuplesOf, tupleKey, SERVICE_OWNED_TYPES } from './relationships.ts';
import type { SpiceDbClient } from './spicedb.client.ts';
import type { Relationship, RelationshipUpdate, ZedToken } from './types.ts';

/**
 * Compares the tuples Postgres implies with the ones SpiceDB holds, organization by organization,
 * and optionally repairs the difference. Each organization is compared and repaired under its row
 * lock, the lock every membership change takes, so a repair can never undo a revocation that
 * raced with it.
 */

export interface Drift {
  /** Recorded in Postgres, absent from SpiceDB: access that should exist and does not. */
  missing: Relationship[];
  /** In SpiceDB, not recorded in Postgres: access that should not exist. */
  extra: Relationship[];
}

/** `moduleTypes`: the policy modules' types (policy-modules.ts), compared as a whole: they belong to no one organization. */
export async function reconcile(orm: Orm, spicedb: SpiceDbClient, options: { fix: boolean; moduleTypes?: readonly string[] }): Promise<Drift> {
  const drift: Drift = { missing: [], extra: [] };
  for (const organizationId of await organizationsInEitherStore(orm, spicedb)) {
    const found = isCanonicalUuid(organizationId)
      ? await reconcileOrganization(orm, spicedb, organizationId, options)
      : await removeUnrecordable(spicedb, organizationId, options);
    drift.missing.push(...found.missing);
    drift.extra.push(...found.extra);
  }
  const orphans = [...(await orphanedChildTuples(orm.em.fork(), spicedb)), ...(await orphanedGrantTuples(orm.em.fork(), spicedb))];
  if (options.fix) await repair(spicedb, { missing: [], extra: orphans });
  drift.extra.push(...orphans);
  const modules = await reconcileModules(orm, spicedb, options.moduleTypes ?? [], options);
  drift.missing.push(...modules.missing);
  drift.extra.push(...modules.extra);
  return drift;
}

/**
 * Module relationships: what Postgres records against what SpiceDB holds for every module type.
 * They belong to no one organization, so instead of an organization's row lock the comparison
 * holds the table in SHARE mode: module writes (whose revocations reach SpiceDB before their
 * commit) wait for it, so a repair cannot undo a revocation racing with it. A grant committed and
 * not yet delivered shows as missing, and touching it is what the relay would do.
 */
async function reconcileModules(orm: Orm, spicedb: SpiceDbClient, moduleTypes: readonly string[], options: { fix: boolean }): Promise<Drift> {
  if (moduleTypes.length === 0) return { missing: [], extra: [] };
  return orm.em.fork().transactional(async (em) => {
    await em.execute('lock table module_relationships in share mode');
    const expected: Relationship[] = [];
    for await (const page of recordedModuleTuples(em)) expected.push(...page);
    const actual = (await Promise.all(moduleTypes.map((resourceType) => spicedb.readRelationships({ resourceType })))).flat();
    const difference = compare(expected, actual);
    if (options.fix) await repair(spicedb, difference);
    return difference;
  });
}

async function reconcileOrganization(orm: Orm, spicedb: SpiceDbClient, organizationId: string, options: { fix: boolean }): Promise<Drift> {
  return orm.em.fork().transactional(async (em) => {
    const organization = await em.findOne(Organization, { id: organizationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const expected = await recordedTuplesOf(em, organizationId);
    const actual = await grantedTuplesOf(spicedb, organizationId, expected);
    const difference = compare(expected, actual);
    const token = options.fix ? await repair(spicedb, difference) : undefined;
    // Checks on the organization then see the repair (a deleted extra tuple is gone for them).
    if (token && organization) organization.zedToken = token;
    return difference;
  });
}

/**
 * An organization id Postgres could not hold (not a lower-case UUID, e.g. `1A93…` or `acme`):
 * nothing records it, so every tuple about it is drift.
 */
async function removeUnrecordable(spicedb: SpiceDbClient, organizationId: string, options: { fix: boolean }): Promise<Drift> {
  const difference: Drift = { missing: [], extra: await grantedTuplesOf(spicedb, organizationId, []) };
  if (options.fix) await repair(spicedb, difference);
  return difference;
}

async function organizationsInEitherStore(orm: Orm, spicedb: SpiceDbClient): Promise<string[]> {
  const recorded = await orm.em.fork().find(Organization, {}, { fields: ['id'] });
  const [organizationTuples, ...childParents] = await Promise.all([
    spicedb.readRelationships({ resourceType: 'organization' }),
    ...ORGANIZATION_CHILD_TYPES.map((resourceType) => spicedb.readRelationships({ resourceType, relation: 'organization' })),
  ]);
  return [
    ...new Set([
      ...recorded.map((organization) => organization.id),
      ...organizationTuples.map((tuple) => tuple.resource.id),
      ...childParents.flat().map((tuple) => tuple.subject.id),
    ]),
  ].sort();
}

/** The objects that hang directly off an organization through their `organization` relation. */
const ORGANIZATION_CHILD_TYPES = ['workspace', 'team', 'role'] as const;

/** The organization's tuples, and those of every workspace, team and custom role (with its bindings) either store puts under it. */
async function grantedTuplesOf(spicedb: SpiceDbClient, organizationId: string, expected: Relationship[]): Promise<Relationship[]> {
  const [organizationTuples, workspaceParents, teamParents, roleParents] = await Promise.all([
    spicedb.readRelationships({ resourceType: 'organization', resourceId: organizationId }),
    ...ORGANIZATION_CHILD_TYPES.map((resourceType) =>
      spicedb.readRelationships({ resourceType, relation: 'organization', subject: { type: 'organization', id: organizationId } }),
    ),
  ]);
  const idsOf = (type: string, parents: Relationship[] = []) =>
    new Set([
      ...parents.map((tuple) => tuple.resource.id),
      ...expected.filter((tuple) => tuple.resource.type === type).map((tuple) => tuple.resource.id),
    ]);
  const childTuples = await Promise.all([
    ...[...idsOf('workspace', workspaceParents)].flatMap((id) => [
      spicedb.readRelationships({ resourceType: 'workspace', resourceId: id }),
      // The resources other services registered under it (their records live in Postgres too).
      ...SERVICE_OWNED_TYPES.map((resourceType) =>
        spicedb.readRelationships({ resourceType, relation: 'workspace', subject: { type: 'workspace', id } }),
      ),
    ]),
    ...[...idsOf('team', teamParents)].map((id) => spicedb.readRelationships({ resourceType: 'team', resourceId: id })),
    ...[...idsOf('role', roleParents)].map((id) => spicedb.readRelationships({ resourceType: 'role', resourceId: id })),
  ]);
  // A custom role bound in a workspace: the binding the workspace (or Postgres) names.
  const bindingIds = new Set([
    ...childTuples.flat().flatMap((tuple) => (tuple.subject.type === 'role_binding' ? [tuple.subject.id] : [])),
    ...expected.filter((tuple) => tuple.resource.type === 'role_binding').map((tuple) => tuple.resource.id),
  ]);
  const bindingTuples = await Promise.all([...bindingIds].map((id) => spicedb.readRelationships({ resourceType: 'role_binding', resourceId: id })));
  // The direct grants on its recorded resources: a grant tuple names no workspace, so each resource is read.
  const resources = expected.filter((tuple) => tuple.relation === 'workspace' && SERVICE_OWNED_TYPES.includes(tuple.resource.type));
  const grantTuples = await Promise.all(
    resources.map(({ resource }) => spicedb.readRelationships({ resourceType: resource.type, resourceId: resource.id })),
  );
  return [...organizationTuples, ...childTuples.flat(), ...bindingTuples.flat(), ...grantTuples.flat().filter(isGrantTuple)];
}

function isGrantTuple(tuple: Relationship): boolean {
  return (GRANT_ROLES as readonly string[]).includes(tuple.relation);
}

/** Tuples of other services' resources that point at a workspace Postgres no longer has. */
async function orphanedChildTuples(em: EntityManager, spicedb: SpiceDbClient): Promise<Relationship[]> {
  const children = (
    await Promise.all(SERVICE_OWNED_TYPES.map((resourceType) => spicedb.readRelationships({ resourceType, relation: 'workspace' })))
  ).flat();
  const pointedAt = [...new Set(children.map((tuple) => tuple.subject.id))].filter(isCanonicalUuid);
  const existing = new Set(
    (await em.find(Workspace, { id: { $in: pointedAt } }, { fields: ['id'] })).map((workspace) => workspace.id),
  );
  return children.filter((tuple) => !existing.has(tuple.subject.id));
}

/** Grant tuples on resources Postgres has no record of (whose organization reconcile cannot know). */
async function orphanedGrantTuples(em: EntityManager, spicedb: SpiceDbClient): Promise<Relationship[]> {
  const grants = (
    await Promise.all(
      SERVICE_OWNED_TYPES.flatMap((resourceType) => GRANT_ROLES.map((relation) => spicedb.readRelationships({ resourceType, relation }))),
    )
  ).flat();
  const recorded = new Set<string>();
  const resources = [...new Map(grants.map(({ resource }) => [`${resource.type}:${resource.id}`, resource])).values()];
  for (let start = 0; start < resources.length; start += ORPHAN_LOOKUP_BATCH) {
    const batch = resources.slice(start, start + ORPHAN_LOOKUP_BATCH);
    for (const found of await em.find(Resource, { $or: batch.map(({ type, id }) => ({ type, id })) }, { fields: ['type', 'id'] })) {
      recorded.add(`${found.type}:${found.id}`);
    }
  }
  return grants.filter(({ resource }) => !recorded.has(`${resource.type}:${resource.id}`));
}

const ORPHAN_LOOKUP_BATCH = 500;


/**
 * A tuple present on both sides with another expiry is missing (its TOUCH sets the recorded one).
 * A tuple whose expiry has passed counts on neither side: SpiceDB ignores it, and one that expired
 * between the two reads is no drift.
 */
function compare(expected: Relationship[], actual: Relationship[]): Drift {
  const now = Date.now();
  const live = (tuple: Relationship) => tuple.expiresAt === undefined || tuple.expiresAt.getTime() > now;
  const expectedLive = expected.filter(live);
  const actualLive = actual.filter(live);
  const expectedKeys = new Set(expectedLive.map(tupleKey));
  const actualByKey = new Map(actualLive.map((tuple) => [tupleKey(tuple), tuple]));
  return {
    missing: expectedLive.filter((tuple) => {
      const found = actualByKey.get(tupleKey(tuple));
      return found === undefined || found.expiresAt?.getTime() !== tuple.expiresAt?.getTime();
    }),
    extra: actualLive.filter((tuple) => !expectedKeys.has(tupleKey(tuple))),
  };
}

/** Returns the ZedToken of the last write, if anything was written. */
async function repair(spicedb: SpiceDbClient, drift: Drift): Promise<ZedToken | undefined> {
  const updates: RelationshipUpdate[] = [
    ...drift.extra.map((relationship): RelationshipUpdate => ({ operation: 'delete', relationship })),
    ...drift.missing.map((relationship): RelationshipUpdate => ({ operation: 'touch', relationship })),
  ];
  return (await spicedb.writeInBatches(updates)) || undefined;
}
