import test from 'ava';
import { as, bearer, makeServiceAccount, makeTeam, makeWorkspaceTenant, onBehalfOf, type WorkspaceTenant } from '../support/factories.ts';
import type { CheckBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * `POST /authz/check` with `explain: true`: the paths that grant an allowed permission, read from
 * SpiceDB's debug trace; none for a denial.
 */

const service = useTestService(test);

const user = (id: string) => ({ type: 'user', id });

/** Registers a chatbot in the tenant's second workspace, for that workspace's admin. */
async function registerBot(key: string, id: string, tenant: WorkspaceTenant) {
  const body = { parent: { type: 'workspace', id: tenant.spaceId }, on_behalf_of: onBehalfOf(tenant.workspaceAdmin) };
  const response = await service.send('PUT', `/api/v1/authz/resources/chatbot/${id}`, body, bearer(key));
  if (response.status !== 201) throw new Error(`registering ${id}: ${response.status} ${await response.text()}`);
}

type Path = NonNullable<CheckBody['explanation']>['paths'][number];

/**
 * Whether a path agrees with the expected text: exactly, or, where SpiceDB answered a step from
 * its cache at that revision (`complete: false`, the rest elided as `…`), up to that step and at
 * the subject. A check made just before at the same revision (a sign-in's permissions) can do that.
 */
function agrees(path: Path, expected: string): boolean {
  if (path.complete) return path.text === expected;
  const objectsOf = (text: string) => text.split(' → ').map((part) => part.split(' ')[0]);
  const [head = '', tail = ''] = path.text.split(' → … → ');
  const expectedObjects = objectsOf(expected);
  return expected.endsWith(` → ${tail}`) && objectsOf(head).every((object, index) => expectedObjects[index] === object);
}

function includesPath(paths: Path[] | undefined, expected: string): boolean {
  return (paths ?? []).some((path) => agrees(path, expected));
}

async function explain(key: string, resource: { type: string; id: string }, permission: string, subjectId: string) {
  const response = await service.send('POST', '/api/v1/authz/check', { resource, permission, subject: user(subjectId), explain: true }, bearer(key));
  return { status: response.status, body: (await response.json()) as CheckBody };
}

test('an allowed check explains the path through the workspace role to the user', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const bot = `bot_${tenant.organizationId.slice(0, 8)}_explain`;
  await registerBot(key, bot, tenant);

  const { status, body } = await explain(key, { type: 'chatbot', id: bot }, 'view', tenant.viewer.id);

  t.is(status, 200);
  t.true(body.allowed);
  const texts = body.explanation?.paths.map((path) => path.text) ?? [];
  t.true(
    includesPath(body.explanation?.paths, `chatbot:${bot} → workspace:${tenant.spaceId} (viewer) → user:${tenant.viewer.id}`),
    `the viewer tuple is on a path: ${JSON.stringify(texts)}`,
  );
  const viaRole = body.explanation?.paths.find((path) => path.steps.some((step) => step.relation === 'viewer'));
  t.deepEqual(viaRole?.steps, [
    { type: 'chatbot', id: bot },
    { type: 'workspace', id: tenant.spaceId, relation: 'viewer' },
  ]);
  t.deepEqual(viaRole?.subject, user(tenant.viewer.id));
  t.true(viaRole?.complete);
});

test('an organization admin is explained through the organization, not a workspace role', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);

  const { body } = await explain(key, { type: 'workspace', id: tenant.spaceId }, 'workspace:manage_members', tenant.admin.id);

  t.true(body.allowed);
  const texts = JSON.stringify(body.explanation?.paths.map((path) => path.text));
  t.true(
    includesPath(body.explanation?.paths, `workspace:${tenant.spaceId} → organization:${tenant.organizationId} (admin) → user:${tenant.admin.id}`),
    texts,
  );
  // SpiceDB may report more than one granting branch of the union; none is a workspace role.
  t.true((body.explanation?.paths ?? []).every((path) => path.steps[0]?.relation === undefined), texts);
});

test('access through a team shows the team, and the team nested in it, on the path', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const [team, nested] = [await makeTeam(service, tenant), await makeTeam(service, tenant)];
  const owner = as(service, tenant.owner);
  t.is((await owner.send('POST', `/api/v1/teams/${team}/members`, { team_id: nested })).status, 201);
  t.is((await owner.send('POST', `/api/v1/teams/${nested}/members`, { user_id: tenant.member.id })).status, 201);
  t.is((await owner.send('POST', `/api/v1/workspaces/${tenant.spaceId}/members`, { team_id: team, role: 'viewer' })).status, 200);
  const bot = `bot_${tenant.organizationId.slice(0, 8)}_team`;
  await registerBot(key, bot, tenant);

  const { body } = await explain(key, { type: 'chatbot', id: bot }, 'view', tenant.member.id);

  t.true(body.allowed);
  const texts = body.explanation?.paths.map((path) => path.text) ?? [];
  t.true(
    includesPath(body.explanation?.paths, `chatbot:${bot} → workspace:${tenant.spaceId} (viewer) → team:${team} (member) → team:${nested} (member) → user:${tenant.member.id}`),
    JSON.stringify(texts),
  );
});

test('a denied check says so, with no path', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);

  const { status, body } = await explain(key, { type: 'workspace', id: tenant.spaceId }, 'workspace:edit', tenant.viewer.id);

  t.is(status, 200);
  t.false(body.allowed);
  t.deepEqual(body.explanation, { paths: [] });
});

test('a user may explain a check about themself; about anyone else, 403', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const workspace = { type: 'workspace', id: tenant.spaceId };

  const own = await explain(tenant.editor.accessToken, workspace, 'workspace:edit', tenant.editor.id);
  t.is(own.status, 200);
  // Both sides of the role's intersection with the organization (schema.zed, defense in depth).
  const paths = own.body.explanation?.paths;
  t.is(paths?.length, 2, JSON.stringify(paths?.map((path) => path.text)));
  for (const expected of [
    `workspace:${tenant.spaceId} (editor) → user:${tenant.editor.id}`,
    `workspace:${tenant.spaceId} → organization:${tenant.organizationId} (member) → user:${tenant.editor.id}`,
  ]) {
    t.true(includesPath(paths, expected), `${expected} in ${JSON.stringify(paths?.map((path) => path.text))}`);
  }

  const other = await explain(tenant.editor.accessToken, workspace, 'workspace:edit', tenant.viewer.id);
  t.is(other.status, 403);
});

test('an account scoped to other organizations may not explain a check about this one (403)', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const elsewhere = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service, ['chatbot'], { organizationIds: [elsewhere.organizationId] });

  const { status, body } = await explain(key, { type: 'workspace', id: tenant.spaceId }, 'view', tenant.viewer.id);

  t.is(status, 403);
  t.false('explanation' in body);
});

test('without explain, the answer carries no explanation', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const { key } = await makeServiceAccount(service);
  const response = await service.send(
    'POST',
    '/api/v1/authz/check',
    { resource: { type: 'workspace', id: tenant.spaceId }, permission: 'view', subject: user(tenant.viewer.id) },
    bearer(key),
  );
  const body = (await response.json()) as CheckBody;
  t.true(body.allowed);
  t.false('explanation' in body);
});
