import test from 'ava';
import { as, bearer, makeServiceAccount, makeUser, makeWorkspaceTenant, onBehalfOf, type WorkspaceTenant } from '../support/factories.ts';
import type { WorkspaceBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * The cursor in a list's `Link` header is the keyset of the last row the service read, which on a
 * filtered list (workspaces, organizations) may be a row the caller cannot see. Sealed, it reveals
 * nothing: no id, no time; altered or carried to another list, it is refused.
 */

const service = useTestService(test);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** The cursor of a response's `Link: <…?cursor=…>; rel="next"`, if any. */
function nextCursor(response: Response): string | undefined {
  const link = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  return link === undefined ? undefined : (new URL(link, service.url).searchParams.get('cursor') ?? undefined);
}

/** The cursor read every way a client might try. */
function readings(cursor: string): string[] {
  return [cursor, Buffer.from(cursor, 'base64url').toString('latin1'), Buffer.from(cursor, 'base64').toString('latin1'), Buffer.from(cursor, 'base64url').toString('hex')];
}

async function created(response: Response): Promise<{ id: string }> {
  if (response.status >= 300) throw new Error(`setup answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string };
}

test('a page cursor of GET /orgs/{id}/workspaces carries nothing of a workspace the caller cannot see', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const owner = as(service, tenant.owner);
  const base = `/api/v1/orgs/${tenant.organizationId}/workspaces`;
  const hidden = [tenant.workspaceId, tenant.spaceId, (await created(await owner.send('POST', base, { name: 'Hidden' }))).id];
  const visible: string[] = [];
  for (const name of ['Shared one', 'Shared two']) {
    const { id } = await created(await owner.send('POST', base, { name }));
    await created(await owner.send('POST', `/api/v1/workspaces/${id}/members`, { user_id: tenant.member.id, role: 'viewer' }));
    visible.push(id);
  }
  const everyWorkspace = (await (await owner.get(`${base}?limit=200`)).json()) as WorkspaceBody[];
  const hiddenTimes = everyWorkspace.filter((workspace) => hidden.includes(workspace.id)).map((workspace) => workspace.created_at);
  t.is(hiddenTimes.length, hidden.length);

  const listed: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const response = await as(service, tenant.member).get(`${base}?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    t.is(response.status, 200);
    listed.push(...((await response.json()) as WorkspaceBody[]).map((workspace) => workspace.id));
    cursor = nextCursor(response);
    for (const reading of cursor ? readings(cursor) : []) {
      for (const secret of [...hidden, ...hiddenTimes]) t.false(reading.includes(secret), `a cursor names ${secret}`);
    }
    pages++;
  } while (cursor && pages < 20);
  t.deepEqual(listed.sort(), visible.sort());
  t.true(pages >= 3, 'the listing read past hidden workspaces');
});

/** Every paged list of a tenant, each with at least two entries, as whoever may read it. */
async function everyPagedList(tenant: WorkspaceTenant): Promise<Array<[string, string]>> {
  const owner = as(service, tenant.owner);
  const { organizationId: org } = tenant;
  await created(await owner.send('POST', '/api/v1/orgs/', { name: 'A second one' }));
  const teamId = (await created(await owner.send('POST', `/api/v1/orgs/${org}/teams`, { name: 'Support' }))).id;
  await created(await owner.send('POST', `/api/v1/orgs/${org}/teams`, { name: 'Sales' }));
  for (const user of [tenant.member, tenant.admin]) await created(await owner.send('POST', `/api/v1/teams/${teamId}/members`, { user_id: user.id }));
  for (const email of ['first@example.com', 'second@example.com']) {
    await created(await owner.send('POST', `/api/v1/orgs/${org}/invitations`, { email, role: 'member' }));
  }
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const chatbot = `bot_cursors_${tenant.spaceId.slice(0, 8)}`;
  await created(await service.send('PUT', `/api/v1/authz/resources/chatbot/${chatbot}`, { parent: { type: 'workspace', id: tenant.spaceId }, on_behalf_of: onBehalfOf(tenant.owner) }, bearer(key)));
  for (const user of [await makeUser(service), await makeUser(service)]) {
    await created(await service.send('POST', `/api/v1/authz/resources/chatbot/${chatbot}/grants`, { subject: { type: 'user', id: user.id }, role: 'viewer', on_behalf_of: onBehalfOf(tenant.owner) }, bearer(key)));
  }
  return [
    [tenant.owner.accessToken, '/api/v1/orgs'],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/members`],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/workspaces`],
    [tenant.owner.accessToken, `/api/v1/workspaces/${tenant.spaceId}/members`],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/teams`],
    [tenant.owner.accessToken, `/api/v1/teams/${teamId}/members`],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/invitations`],
    [key, `/api/v1/authz/resources/chatbot/${chatbot}/grants`],
  ];
}

test('every paged list hands out cursors that name no id and no time, refused when altered or carried to another list', async (t) => {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const lists = await everyPagedList(tenant);
  const cursors: string[] = [];
  for (const [key, path] of lists) {
    const response = await service.request(`${path}?limit=1`, { headers: bearer(key) });
    t.is(response.status, 200, path);
    const cursor = nextCursor(response);
    if (!cursor) {
      t.fail(`${path} handed out no cursor`);
      continue;
    }
    for (const reading of readings(cursor)) {
      t.notRegex(reading, UUID, path);
      t.notRegex(reading, ISO_TIME, path);
    }
    t.is((await service.request(`${path}?limit=1&cursor=${encodeURIComponent(cursor)}`, { headers: bearer(key) })).status, 200, `${path} takes its own cursor`);
    const altered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    const refused = await service.request(`${path}?limit=1&cursor=${encodeURIComponent(altered)}`, { headers: bearer(key) });
    t.is(refused.status, 422, `${path} altered`);
    t.like(await refused.json(), { errors: [{ field: 'query.cursor' }] });
    cursors.push(cursor);
  }
  // Each list's cursor on the next list: refused, even between lists of the same caller.
  for (const [index, [key, path]] of lists.entries()) {
    const foreign = cursors[(index + 1) % cursors.length] ?? '';
    const response = await service.request(`${path}?limit=1&cursor=${encodeURIComponent(foreign)}`, { headers: bearer(key) });
    t.is(response.status, 422, `${path} with another list's cursor`);
    await response.arrayBuffer();
  }
});
