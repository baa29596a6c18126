import test from 'ava';
import { toSpiceDbId } from '../../src/authz/object-ids.ts';
import { reconcile } from '../../src/authz/reconcile.ts';
import type { Relationship } from '../../src/authz/types.ts';
import { as, bearer, makeServiceAccount, makeTeam, makeWorkspaceTenant, onBehalfOf, type WorkspaceTenant } from '../support/factories.ts';
import type { CheckBody, LookupResourcesBody, LookupSubjectsBody, SchemaBody } from '../support/responses.ts';
import { moduleCalls } from '../support/metrics.ts';
import { startTestService, useTestService } from '../support/test-service.ts';

/**
 * Policy modules through the authorization API, with the shipped docs module (policy/docs.zed):
 * a module's own service accounts write its relationships (POST/DELETE /authz/relationships),
 * recorded in Postgres and checked through every door; attachments to tenant objects follow the
 * resource-registration rules; deleting a tenant object removes the module relationships naming it.
 */

const service = useTestService(test);

const RELATIONSHIPS = '/api/v1/authz/relationships';

interface Tuple {
  resource: { type: string; id: string };
  relation: string;
  subject: { type: string; id: string; relation?: string };
}

const tuple = (resource: string, relation: string, subject: string): Tuple => {
  const [resourceType = '', ...resourceId] = resource.split(':');
  const [subjectPart = '', subjectRelation] = subject.split('#');
  const [subjectType = '', ...subjectId] = subjectPart.split(':');
  return {
    resource: { type: resourceType, id: resourceId.join(':') },
    relation,
    subject: { type: subjectType, id: subjectId.join(':'), ...(subjectRelation && { relation: subjectRelation }) },
  };
};

async function docsAccount(options: { trusted?: boolean; organizationIds?: string[] } = {}) {
  return makeServiceAccount(service, [], { ...options, modules: ['docs'] });
}

function write(key: string, relationships: Tuple[], actingFor?: { id: string }, method: 'POST' | 'DELETE' = 'POST') {
  return service.send(method, RELATIONSHIPS, { relationships, ...(actingFor && { on_behalf_of: onBehalfOf(actingFor) }) }, bearer(key));
}

async function written(key: string, relationships: Tuple[], actingFor?: { id: string }): Promise<void> {
  const response = await write(key, relationships, actingFor);
  if (response.status !== 200) throw new Error(`writing ${JSON.stringify(relationships)}: ${response.status} ${await response.text()}`);
}

async function can(key: string, resource: string, permission: string, user: { id: string }): Promise<boolean> {
  const { resource: ref } = tuple(resource, 'x', 'user:x');
  const response = await service.send('POST', '/api/v1/authz/check', { resource: ref, permission, subject: { type: 'user', id: user.id } }, bearer(key));
  if (response.status !== 200) throw new Error(`check ${resource}#${permission}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as CheckBody).allowed;
}

async function recorded(filter: string): Promise<number> {
  const [row] = await service.orm.em.fork().execute<Array<{ count: string }>>(
    'select count(*) from module_relationships where resource_id like ? or subject_id like ?',
    [`%${filter}%`, `%${filter}%`],
  );
  return Number(row?.count ?? 0);
}

async function spicedbTuples(resourceType: string, resourceId: string): Promise<string[]> {
  const tuples = await service.spicedb.readRelationships({ resourceType, resourceId });
  return tuples.map((found) => `${found.relation}@${found.subject.type}:${found.subject.id}${found.subject.relation ? `#${found.subject.relation}` : ''}`).sort();
}

/** A folder in the tenant's second workspace with a subfolder holding a document owned by its viewer, registered for the workspace's editor. */
async function docsTree(tenant: WorkspaceTenant, key: string, label: string) {
  const ids = { folder: `f_${label}_${tenant.organizationId.slice(0, 8)}`, drafts: `d_${label}_${tenant.organizationId.slice(0, 8)}`, plan: `/plans/${label}.md ${tenant.organizationId}` };
  await written(key, [tuple(`docs/folder:${ids.folder}`, 'workspace', `workspace:${tenant.spaceId}`)], tenant.editor);
  await written(key, [tuple(`docs/folder:${ids.drafts}`, 'parent', `docs/folder:${ids.folder}`), tuple(`docs/document:${ids.plan}`, 'folder', `docs/folder:${ids.drafts}`), tuple(`docs/document:${ids.plan}`, 'owner', `user:${tenant.member.id}`)], tenant.editor);
  return ids;
}

test('a docs tree registered for a workspace editor answers checks through it, and deleting the workspace removes what names it', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await docsAccount();
  const ids = await docsTree(tenant, key, 'tree');
  t.true(await can(key, `docs/document:${ids.plan}`, 'view', tenant.viewer), 'the workspace viewer views down the tree');
  t.false(await can(key, `docs/document:${ids.plan}`, 'edit', tenant.viewer));
  t.true(await can(key, `docs/document:${ids.plan}`, 'edit', tenant.editor), 'the workspace editor edits down the tree');
  t.true(await can(key, `docs/document:${ids.plan}`, 'delete', tenant.member), 'its owner');
  t.false(await can(key, `docs/document:${ids.plan}`, 'view', tenant.stranger));
  t.is(await recorded(ids.folder), 2);

  const deleted = await as(service, tenant.owner).send('DELETE', `/api/v1/workspaces/${tenant.spaceId}`);
  t.is(deleted.status, 204);
  t.deepEqual(await spicedbTuples('docs/folder', ids.folder), [], 'the folder no longer hangs off the workspace');
  t.is(await recorded(tenant.spaceId), 0);
  t.false(await can(key, `docs/document:${ids.plan}`, 'view', tenant.viewer));
  t.true(await can(key, `docs/document:${ids.plan}`, 'view', tenant.member), 'its owner still owns it: that names no tenant object');
});

test('attaching to a workspace asks workspace:edit of the user the service acts for; a viewer, a stranger or no one is refused and nothing changes', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await docsAccount();
  const attach = [tuple('docs/folder:refused_' + tenant.organizationId, 'workspace', `workspace:${tenant.spaceId}`)];
  t.is((await write(key, attach, tenant.viewer)).status, 403);
  t.is((await write(key, attach, tenant.stranger)).status, 403);
  t.is((await write(key, attach)).status, 403, 'an untrusted account names the user it acts for');
  const missing = await write(key, [tuple('docs/folder:refused_x', 'workspace', 'workspace:6f1c2b1e-93a4-4bb2-8d3e-1f0e4f5a6b7c')], tenant.editor);
  t.is(missing.status, 403, 'a missing workspace is refused like a hidden one');
  t.is(await recorded(`refused_`), 0);
  t.deepEqual(await spicedbTuples('docs/folder', 'refused_' + tenant.organizationId), []);
  const { key: trustedKey } = await docsAccount({ trusted: true });
  t.is((await write(trustedKey, attach)).status, 200, 'a trusted account writes for no one');
});

test('only the module\'s own accounts write its relationships, and never core relations; unknown types and relations are 422 naming the field', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key: chatbotKey } = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const { key } = await docsAccount({ trusted: true });
  const documentOwner = [tuple('docs/document:d_' + tenant.organizationId, 'owner', `user:${tenant.member.id}`)];
  t.is((await write(chatbotKey, documentOwner)).status, 403);
  t.is((await write(key, [tuple(`workspace:${tenant.spaceId}`, 'viewer', `user:${tenant.member.id}`)])).status, 403);
  t.is((await write(key, [...documentOwner, tuple('chatbot:bot_' + tenant.organizationId, 'workspace', `workspace:${tenant.spaceId}`)])).status, 403);

  const unknownType = await write(key, [tuple('docs/page:p1', 'owner', `user:${tenant.member.id}`)]);
  t.is(unknownType.status, 422);
  t.like(await unknownType.json(), { errors: [{ field: 'body.relationships.0.resource.type' }] });
  const unknownRelation = await write(key, [tuple('docs/document:d1', 'reader', `user:${tenant.member.id}`)]);
  t.like(await unknownRelation.json(), { status: 422, errors: [{ field: 'body.relationships.0.relation' }] });
  const wrongSubject = await write(key, [tuple('docs/document:d1', 'owner', `team:${tenant.spaceId}#member`)]);
  t.like(await wrongSubject.json(), { status: 422, errors: [{ field: 'body.relationships.0.subject' }] });
  const publicEditor = await write(key, [tuple('docs/document:d1', 'editor', 'user:*')]);
  t.like(await publicEditor.json(), { status: 422, errors: [{ field: 'body.relationships.0.subject' }] });
  t.is(await recorded('d_' + tenant.organizationId), 0);
});

test('a module object belongs to one tenant, and an account limited to organizations stays in them', async (t) => {
  const [first, second] = [await makeWorkspaceTenant(service, { plan: 'pro' }), await makeWorkspaceTenant(service, { plan: 'pro' })];
  const { key } = await docsAccount({ trusted: true });
  const folder = `docs/folder:shared_${first.organizationId}`;
  await written(key, [tuple(folder, 'workspace', `workspace:${first.spaceId}`)]);
  const elsewhere = await write(key, [tuple(folder, 'workspace', `workspace:${second.spaceId}`)]);
  t.is(elsewhere.status, 409);
  t.deepEqual(await spicedbTuples('docs/folder', `shared_${first.organizationId}`), [`workspace@workspace:${first.spaceId}`]);

  const { key: scopedKey } = await docsAccount({ trusted: true, organizationIds: [second.organizationId] });
  t.is((await write(scopedKey, [tuple(`docs/folder:other_${first.organizationId}`, 'workspace', `workspace:${first.spaceId}`)])).status, 403);
  t.is((await write(scopedKey, [tuple('docs/document:in_first', 'folder', folder)])).status, 403, 'nor links into another tenant\'s folder');
  t.is((await write(scopedKey, [tuple(`docs/folder:own_${second.organizationId}`, 'workspace', `workspace:${second.spaceId}`)])).status, 200);
});

test('ids of any printable characters are encoded for SpiceDB by one rule and answered decoded by every door', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await docsAccount({ trusted: true });
  const email = `alice+${tenant.organizationId}@example.com`;
  const path = `/todos/${tenant.organizationId}/notes v2.md`;
  const plain = `plain_${tenant.organizationId}`;
  await written(key, [tuple(`docs/folder:${email}`, 'workspace', `workspace:${tenant.spaceId}`)]);
  await written(key, [tuple(`docs/document:${path}`, 'folder', `docs/folder:${email}`), tuple(`docs/document:${plain}`, 'folder', `docs/folder:${email}`)]);

  const stored = await service.spicedb.readRelationships({ resourceType: 'docs/document', subject: { type: 'docs/folder', id: email } });
  t.deepEqual(stored.map(({ resource }) => resource.id).sort(), [path, plain].sort(), 'the client decodes what it reads');
  t.is(toSpiceDbId('docs/document', plain), plain, 'an id SpiceDB can spell is stored unchanged');
  t.regex(toSpiceDbId('docs/document', path), /^=[A-Za-z0-9_-]+$/);

  t.true(await can(key, `docs/document:${path}`, 'view', tenant.viewer));
  const bulk = await service.send('POST', '/api/v1/authz/check-bulk', {
    items: [
      { resource: { type: 'docs/document', id: path }, permission: 'edit', subject: { type: 'user', id: tenant.editor.id } },
      { resource: { type: 'docs/folder', id: email }, permission: 'edit', subject: { type: 'user', id: tenant.viewer.id } },
    ],
  }, bearer(key));
  t.like(await bulk.json(), { results: [{ allowed: true }, { allowed: false }] });

  const lookup = await service.send('POST', '/api/v1/authz/lookup-resources', { resource_type: 'docs/document', permission: 'view', subject: { type: 'user', id: tenant.viewer.id } }, bearer(key));
  // Other tests' public documents (user:*) show too; this tenant's are the ones naming it.
  const found = ((await lookup.json()) as LookupResourcesBody).resource_ids.filter((id) => id.includes(tenant.organizationId));
  t.deepEqual(found, [path, plain].sort());
  const subjects = await service.send('POST', '/api/v1/authz/lookup-subjects', { resource: { type: 'docs/document', id: path }, permission: 'edit', subject_type: 'user' }, bearer(key));
  t.true(((await subjects.json()) as LookupSubjectsBody).subject_ids.includes(tenant.editor.id));
  const explained = await service.send('POST', '/api/v1/authz/check', { resource: { type: 'docs/document', id: path }, permission: 'view', subject: { type: 'user', id: tenant.viewer.id }, explain: true }, bearer(key));
  const paths = ((await explained.json()) as CheckBody).explanation?.paths ?? [];
  t.true(paths.some((found) => found.steps[0]?.id === path && found.steps[1]?.id === email), JSON.stringify(paths));

  const tooLong = await write(key, [tuple(`docs/document:${'x'.repeat(513)}`, 'owner', `user:${tenant.member.id}`)]);
  t.like(await tooLong.json(), { status: 422, errors: [{ field: 'body.relationships.0.resource.id' }] });
  const control = await write(key, [tuple('docs/document:a\u0007b', 'owner', `user:${tenant.member.id}`)]);
  t.like(await control.json(), { status: 422, errors: [{ field: 'body.relationships.0.resource.id' }] });

  const removed = await write(key, [tuple(`docs/document:${path}`, 'folder', `docs/folder:${email}`)], undefined, 'DELETE');
  t.is(removed.status, 200);
  t.false(await can(key, `docs/document:${path}`, 'view', tenant.viewer));
  t.is(await recorded(path), 0);
});

test('deleting a team or the organization removes the module relationships naming them', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const teamId = await makeTeam(service, tenant);
  const { key } = await docsAccount();
  const document = `docs/document:team_doc_${tenant.organizationId}`;
  await written(key, [tuple(document, 'editor', `team:${teamId}#member`)], tenant.member);
  await written(key, [tuple(`docs/folder:org_${tenant.organizationId}`, 'workspace', `workspace:${tenant.workspaceId}`)], tenant.owner);
  t.deepEqual(await spicedbTuples('docs/document', `team_doc_${tenant.organizationId}`), [`editor@team:${teamId}#member`]);
  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/teams/${teamId}`)).status, 204);
  t.deepEqual(await spicedbTuples('docs/document', `team_doc_${tenant.organizationId}`), []);
  t.is(await recorded(teamId), 0);

  t.is((await as(service, tenant.owner).send('DELETE', `/api/v1/orgs/${tenant.organizationId}`)).status, 204);
  t.deepEqual(await spicedbTuples('docs/folder', `org_${tenant.organizationId}`), []);
  t.is(await recorded(`org_${tenant.organizationId}`), 0);
});

test('module writes and deletions are audited, in the organization of the objects they name, and published as events with their count', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key, account } = await docsAccount();
  const ids = await docsTree(tenant, key, 'audited');
  const detach = await write(key, [tuple(`docs/folder:${ids.folder}`, 'workspace', `workspace:${tenant.spaceId}`)], tenant.editor, 'DELETE');
  t.is(detach.status, 200);
  const rows = await service.orm.em
    .fork()
    .execute<Array<{ action: string; organization_id: string | null; actor_id: string; target_id: string; changes: { count: [null, number]; relationships: [null, string[]] } }>>(
      "select action, organization_id, actor_id, target_id, changes from audit_events where target_type = 'policy_module' and changes::text like ? order by occurred_at, position",
      [`%${ids.folder}%`],
    );
  // The subfolder and the document attach to no tenant object themselves: the module's own chain.
  t.deepEqual(
    rows.map((row) => [row.action, row.target_id, row.organization_id, row.changes.count[1]]),
    [
      ['module.relationships.written', 'docs', tenant.organizationId, 1],
      ['module.relationships.written', 'docs', null, 3],
      ['module.relationships.deleted', 'docs', tenant.organizationId, 1],
    ],
  );
  t.true(rows.every((row) => row.actor_id === account.id));
  t.deepEqual(rows[0]?.changes.relationships[1], [`docs/folder:${ids.folder}#workspace@workspace:${tenant.spaceId}`]);
  const events = await service.orm.em
    .fork()
    .execute<Array<{ type: string }>>("select type, data from events where organization_id = ? and type like 'module.%' order by transaction_id, sequence", [
      tenant.organizationId,
    ]);
  t.deepEqual(events.map((event) => event.type), ['module.relationships.written', 'module.relationships.deleted']);
  t.false(JSON.stringify(events).includes(ids.folder), 'an event carries the count, not the tuples');
});

test("deleting a user's account removes the module relationships naming them", async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await docsAccount();
  const ids = await docsTree(tenant, key, 'leaver');
  t.true(await can(key, `docs/document:${ids.plan}`, 'delete', tenant.member), 'its owner');
  // The member owns the organization signup made them: that goes first, as deletion asks.
  t.is((await as(service, tenant.member).send('DELETE', `/api/v1/orgs/${tenant.member.organizationId}`)).status, 204);
  t.is((await as(service, tenant.member).send('DELETE', '/api/v1/auth/me', { password: tenant.member.password })).status, 204);
  t.deepEqual(
    (await spicedbTuples('docs/document', ids.plan)).filter((found) => found.includes(tenant.member.id)),
    [],
    'no tuple names the deleted user',
  );
  t.is(await recorded(tenant.member.id), 0);
  t.true(await can(key, `docs/document:${ids.plan}`, 'view', tenant.viewer), 'the rest of the tree stands');
});

test('GET /authz/schema lists each module with its types, relations and permissions', async (t) => {
  const { key } = await docsAccount();
  const body = (await (await service.request('/api/v1/authz/schema', { headers: bearer(key) })).json()) as SchemaBody;
  t.regex(body.schema, /definition docs\/document \{/);
  const docs = body.modules.find((module) => module.name === 'docs');
  t.deepEqual(docs?.types.map((type) => type.name), ['docs/folder', 'docs/document']);
  t.deepEqual(docs?.types[1]?.permissions, ['edit', 'view', 'delete']);
});

// On a SpiceDB of its own: a repair removes every docs tuple its database does not record, which on
// a SpiceDB shared with other test files (server mode) would include theirs.
test('reconcile finds module relationships SpiceDB lost or holds without a record, and repairs them', async (t) => {
  const own = await startTestService({ environment: { SPICEDB_ENDPOINT: '' } });
  t.teardown(() => own.stop());
  const tenant = await makeWorkspaceTenant(own, { plan: 'pro' });
  const { key } = await makeServiceAccount(own, [], { trusted: true, modules: ['docs'] });
  const folder = `reconciled_${tenant.organizationId}`;
  const kept: Relationship = { resource: { type: 'docs/folder', id: folder }, relation: 'workspace', subject: { type: 'workspace', id: tenant.spaceId } };
  const stray: Relationship = { resource: { type: 'docs/document', id: `stray ${folder}` }, relation: 'owner', subject: { type: 'user', id: tenant.member.id } };
  t.is((await own.send('POST', RELATIONSHIPS, { relationships: [kept] }, bearer(key))).status, 200);
  await own.spicedb.writeRelationships([{ operation: 'delete', relationship: kept }, { operation: 'touch', relationship: stray }]);
  const moduleTypes = own.policy.modules.flatMap((module) => module.types);
  const drift = await reconcile(own.orm, own.spicedb, { fix: true, moduleTypes });
  t.deepEqual(drift.missing, [kept]);
  t.deepEqual(drift.extra, [stray]);
  t.deepEqual((await own.spicedb.readRelationships({ resourceType: 'docs/folder', resourceId: folder })).map(({ subject }) => subject.id), [tenant.spaceId]);
  t.deepEqual(await own.spicedb.readRelationships({ resourceType: 'docs/document', resourceId: stray.resource.id }), []);
  t.deepEqual(await reconcile(own.orm, own.spicedb, { fix: false, moduleTypes }), { missing: [], extra: [] }, 'no drift is left');
});

test('a relation that takes every user (user:*) makes a document public', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await docsAccount({ trusted: true });
  const document = `docs/document:public_${tenant.organizationId}`;
  t.false(await can(key, document, 'view', tenant.stranger));
  await written(key, [tuple(document, 'viewer', 'user:*')]);
  t.true(await can(key, document, 'view', tenant.stranger));
  t.false(await can(key, document, 'edit', tenant.stranger));
});

test('/metrics counts the calls about each module, by operation', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await docsAccount({ trusted: true });
  const [checks, writes] = [await moduleCalls(service, 'docs', 'check'), await moduleCalls(service, 'docs', 'write')];
  const lookups = await moduleCalls(service, 'docs', 'lookup_resources');
  await written(key, [tuple(`docs/folder:metered_${tenant.organizationId}`, 'workspace', `workspace:${tenant.spaceId}`)]);
  await can(key, `docs/folder:metered_${tenant.organizationId}`, 'view', tenant.viewer);
  await can(key, `docs/folder:metered_${tenant.organizationId}`, 'edit', tenant.viewer);
  await service.send('POST', '/api/v1/authz/lookup-resources', { resource_type: 'docs/folder', permission: 'view', subject: { type: 'user', id: tenant.viewer.id } }, bearer(key));
  // Tests of this file run concurrently: at least this test's own calls were counted.
  t.true((await moduleCalls(service, 'docs', 'write')) >= writes + 1);
  t.true((await moduleCalls(service, 'docs', 'check')) >= checks + 2);
  t.true((await moduleCalls(service, 'docs', 'lookup_resources')) >= lookups + 1);
});
