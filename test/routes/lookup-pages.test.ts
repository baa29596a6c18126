import test from 'ava';
import { as, bearer, joinByConsent, makeServiceAccount, makeTeam, makeUser, makeWorkspaceTenant, type WorkspaceTenant } from '../support/factories.ts';
import type { LookupResourcesBody } from '../support/responses.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * lookup-resources pages SpiceDB's own stream (its limit and cursor), so a page costs about one
 * page of SpiceDB's work. SpiceDB's paged stream repeats an id once per path that reaches it:
 * each id must still come once, pages must still read one snapshot, and nothing may be lost.
 */

const service = useTestService(test);

/** Results SpiceDB streamed to the service for LookupResources so far (`spicedb_streamed_results_total`). */
async function streamedResults(): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  return Number(/^spicedb_streamed_results_total\{method="LookupResources"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

const resourcePath = (id: string) => `/api/v1/authz/resources/chatbot/${id}`;

interface Reach {
  tenant: WorkspaceTenant;
  key: string;
  ids: string[];
}

/**
 * Twelve chatbots in the tenant's second workspace, which its editor may edit by four paths at
 * once for some: the editor's own workspace role, a team's editor role on the workspace (the
 * editor is a member), a direct editor grant (bots 1, 5, 10), and an editor grant to the team
 * (bots 2, 7). `edit`, not `view`: another file's public chatbot shows in every `view` lookup on
 * a SpiceDB server the files share.
 */
async function reachByFourPaths(count = 12): Promise<Reach> {
  const tenant = await makeWorkspaceTenant(service, { plan: 'pro' });
  const backfill = await makeServiceAccount(service, ['chatbot'], { trusted: true });
  const team = await makeTeam(service, tenant);
  const joined = await as(service, tenant.owner).send('POST', `/api/v1/teams/${team}/members`, { user_id: tenant.editor.id });
  if (joined.status !== 201) throw new Error(`joining the team answered ${joined.status}`);
  await seed(service, ({ workspaceMembers }) => workspaceMembers.add(tenant.owner.id, tenant.spaceId, { teamId: team }, 'editor'));
  const ids = Array.from({ length: count }, (_, index) => `bot_${tenant.spaceId.slice(0, 8)}_${String(index).padStart(3, '0')}`);
  for (const id of ids) {
    const put = await service.send('PUT', resourcePath(id), { parent: { type: 'workspace', id: tenant.spaceId } }, bearer(backfill.key));
    if (put.status !== 201) throw new Error(`registering answered ${put.status}`);
  }
  const grants: Array<[number, { type: string; id: string }]> = [
    [1, { type: 'user', id: tenant.editor.id }],
    [5, { type: 'user', id: tenant.editor.id }],
    [10, { type: 'user', id: tenant.editor.id }],
    [2, { type: 'team', id: team }],
    [7, { type: 'team', id: team }],
  ];
  for (const [index, subject] of grants.filter(([index]) => index < count)) {
    const granted = await service.send('POST', `${resourcePath(ids[index] ?? '')}/grants`, { subject, role: 'editor' }, bearer(backfill.key));
    if (granted.status !== 201) throw new Error(`granting answered ${granted.status}`);
  }
  return { tenant, key: backfill.key, ids };
}

async function page(key: string, subjectId: string, limit: number, cursor?: string | null): Promise<LookupResourcesBody> {
  const response = await service.send(
    'POST',
    '/api/v1/authz/lookup-resources',
    { resource_type: 'chatbot', permission: 'edit', subject: { type: 'user', id: subjectId }, limit, ...(cursor && { cursor }) },
    bearer(key),
  );
  if (response.status !== 200) throw new Error(`lookup answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as LookupResourcesBody;
}

/** Every page of a listing, the limit of each page from `limits` (the last one repeats); `between` runs after each page. */
async function listAll(key: string, subjectId: string, limits: number[], between: (pages: number) => Promise<void> = async () => {}) {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const answered: LookupResourcesBody = await page(key, subjectId, limits[Math.min(pages.length, limits.length - 1)] ?? 1, cursor);
    pages.push(answered.resource_ids);
    cursor = answered.next_cursor;
    await between(pages.length);
  } while (cursor && pages.length < 100);
  return pages;
}

test.serial('a page reads about one page from SpiceDB, not everything the subject reaches', async (t) => {
  // The workspace's admin reaches the 60 by one path (its role): SpiceDB streams them once, in id order.
  const { tenant, key, ids } = await reachByFourPaths(60);
  const subject = tenant.workspaceAdmin.id;
  const before = await streamedResults();
  const first = await page(key, subject, 5);
  const firstCost = (await streamedResults()) - before;
  t.is(first.resource_ids.length, 5);
  // The page and one more (is there a next page?): the 60 it reaches stay in SpiceDB.
  t.true(firstCost <= 6, `the first page streamed ${firstCost} results`);
  const second = await page(key, subject, 5, first.next_cursor);
  const secondCost = (await streamedResults()) - before - firstCost;
  t.is(second.resource_ids.length, 5);
  t.true(secondCost <= 6, `the second page streamed ${secondCost} results`);
  t.is(new Set([...first.resource_ids, ...second.resource_ids]).size, 10);
  t.true([...first.resource_ids, ...second.resource_ids].every((id) => ids.includes(id)));
});

test.serial('a page after SpiceDB’s stream turned back to a second path re-reads only the stream before it', async (t) => {
  const { tenant, key } = await reachByFourPaths(60);
  const first = await page(key, tenant.editor.id, 5);
  const before = await streamedResults();
  const second = await page(key, tenant.editor.id, 5, first.next_cursor);
  const cost = (await streamedResults()) - before;
  t.is(second.resource_ids.length, 5);
  // Its own stretches, and the five results before it once more: not the 60 × 4 paths SpiceDB would stream.
  t.true(cost <= 40, `the second page streamed ${cost} results`);
});

test.serial('a whole listing by several paths streams a few times what SpiceDB holds for it, not once per page', async (t) => {
  const { tenant, key, ids } = await reachByFourPaths(60);
  const before = await streamedResults();
  const pages = await listAll(key, tenant.editor.id, [5]);
  const cost = (await streamedResults()) - before;
  t.deepEqual(pages.flat().sort(), ids);
  // SpiceDB streams 125 results for it (60 by each workspace role, 5 by grants): the pages after
  // the stream turned back re-read what came before them, the last one once and whole.
  t.true(cost <= 4 * 125, `the listing streamed ${cost} results over ${pages.length} pages`);
  t.log(`the listing streamed ${cost} results over ${pages.length} pages`);
});

test('a subject reaching chatbots by several paths gets each once, and the pages add up to exactly what it reaches', async (t) => {
  const { tenant, key, ids } = await reachByFourPaths();
  for (const limits of [[1], [2], [5], [3, 1, 4, 1, 5], [100]]) {
    const pages = await listAll(key, tenant.editor.id, limits);
    const listed = pages.flat();
    t.is(new Set(listed).size, listed.length, `each id once with limits ${limits.join(',')}: ${JSON.stringify(pages)}`);
    t.deepEqual([...listed].sort(), ids, `every id with limits ${limits.join(',')}`);
    pages.forEach((ids, index) => {
      const limit = limits[Math.min(index, limits.length - 1)] ?? 1;
      if (index < pages.length - 1) t.is(ids.length, limit, `page ${index + 1} is full`);
      else t.true(ids.length > 0 && ids.length <= limit, 'the last page is not empty');
    });
  }
});

test('pages of a listing read its first page’s snapshot, also by several paths: a grant or registration after page 1 is not on page 2', async (t) => {
  const { tenant, key, ids } = await reachByFourPaths();
  const added = `bot_${tenant.spaceId.slice(0, 8)}_added`;
  const pages = await listAll(key, tenant.editor.id, [2], async (pages) => {
    if (pages !== 1) return;
    const put = await service.send('PUT', resourcePath(added), { parent: { type: 'workspace', id: tenant.spaceId } }, bearer(key));
    t.is(put.status, 201);
    const granted = await service.send('POST', `${resourcePath(added)}/grants`, { subject: { type: 'user', id: tenant.editor.id }, role: 'editor' }, bearer(key));
    t.is(granted.status, 201);
  });
  t.deepEqual([...pages.flat()].sort(), ids, 'the listing as it was when it began');
  t.deepEqual([...(await listAll(key, tenant.editor.id, [100])).flat()].sort(), [...ids, added].sort(), 'a new listing sees it');
});

test('a cursor of a listing by several paths, altered, answers 422 naming body.cursor', async (t) => {
  const { tenant, key } = await reachByFourPaths();
  const first = await page(key, tenant.editor.id, 2);
  const cursor = first.next_cursor ?? '';
  t.true(cursor.length > 0 && cursor.length <= 4096, `the cursor fits the request's limit (${cursor.length})`);
  const altered = `${cursor.slice(0, 20)}${cursor[20] === 'A' ? 'B' : 'A'}${cursor.slice(21)}`;
  const response = await service.send(
    'POST',
    '/api/v1/authz/lookup-resources',
    { resource_type: 'chatbot', permission: 'edit', subject: { type: 'user', id: tenant.editor.id }, limit: 2, cursor: altered },
    bearer(key),
  );
  t.is(response.status, 422);
  t.like(await response.json(), { errors: [{ field: 'body.cursor' }] });
});

test('an account scoped to one organization pages through only its chatbots, in full pages, though SpiceDB streams the others too', async (t) => {
  const { tenant, key, ids } = await reachByFourPaths();
  // The editor is also an admin of a second organization, with six chatbots of its own.
  const elsewhere = await makeUser(service);
  t.is((await joinByConsent(service, elsewhere, elsewhere.organizationId, tenant.editor, 'admin')).status, 200);
  const others = Array.from({ length: 6 }, (_, index) => `bot_${elsewhere.organizationId.slice(0, 8)}_${index}`);
  for (const id of others) {
    const put = await service.send('PUT', resourcePath(id), { parent: { type: 'workspace', id: elsewhere.workspaceId } }, bearer(key));
    t.is(put.status, 201);
  }
  t.deepEqual([...(await listAll(key, tenant.editor.id, [100])).flat()].sort(), [...ids, ...others].sort(), 'unscoped, both');
  for (const [organizationId, expected] of [[tenant.organizationId, ids], [elsewhere.organizationId, others]] as const) {
    const scoped = await makeServiceAccount(service, ['chatbot'], { trusted: true, organizationIds: [organizationId] });
    const pages = await listAll(scoped.key, tenant.editor.id, [2]);
    t.deepEqual([...pages.flat()].sort(), [...expected].sort());
    t.true(pages.slice(0, -1).every((ids) => ids.length === 2), JSON.stringify(pages));
  }
});
