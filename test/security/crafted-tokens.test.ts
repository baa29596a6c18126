import test from 'ava';
import { as, bearer, makeServiceAccount, makeTeam, makeTenant, onBehalfOf, type Tenant } from '../support/factories.ts';
import type { CheckBody } from '../support/responses.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * ZedTokens and cursors crafted by a client (a revision of 2^40, 2^62, one past int64, garbage,
 * a real token stripped of its seal) answer a 4xx problem document at every door that takes one,
 * never a 500, and never reach SpiceDB: on SpiceDB's Postgres datastore a revision past int64
 * made `spicedb serve` panic, which took every check of every tenant down with it.
 */

const service = useTestService(test);
let tenant: Tenant;
let serviceKey: string;
let teamId: string;
const chatbotId = `bot_crafted_${Date.now()}`;

test.before(async () => {
  tenant = await makeTenant(service);
  serviceKey = (await makeServiceAccount(service, ['chatbot'])).key;
  teamId = await makeTeam(service, tenant);
  const registered = await service.send(
    'PUT',
    `/api/v1/authz/resources/chatbot/${chatbotId}`,
    { parent: { type: 'workspace', id: tenant.workspaceId }, on_behalf_of: onBehalfOf(tenant.owner) },
    bearer(serviceKey),
  );
  if (registered.status !== 201) throw new Error(`registering answered ${registered.status}`);
});

/** A protobuf length-delimited field. */
function field(number: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(number << 3) | 2, content.length]), content]);
}

/** A ZedToken as SpiceDB encodes one (a V1 token with `revision`, and the datastore's id when given). */
function zedToken(revision: string, datastoreId?: Buffer): string {
  return field(3, Buffer.concat([field(1, Buffer.from(revision)), ...(datastoreId ? [field(2, datastoreId)] : [])])).toString('base64');
}

function checkBody() {
  return { resource: { type: 'organization', id: tenant.organizationId }, permission: 'view', subject: { type: 'user', id: tenant.owner.id } };
}

async function sealedCheckedAt(): Promise<string> {
  const response = await service.send('POST', '/api/v1/authz/check', checkBody(), bearer(serviceKey));
  return ((await response.json()) as CheckBody).checked_at;
}

/** Every crafted token: revisions SpiceDB's datastores read as numbers, with and without the real datastore id. */
async function craftedTokens(): Promise<string[]> {
  const sealed = await sealedCheckedAt();
  const raw = sealed.slice(0, sealed.lastIndexOf('.'));
  const decoded = Buffer.from(raw, 'base64');
  // The V1 token's second field is the datastore's id: [0x1a len 0x0a len revision… 0x12 len id…].
  const revisionEnd = 4 + (decoded[3] ?? 0);
  const datastoreId = decoded.subarray(revisionEnd + 2, revisionEnd + 2 + (decoded[revisionEnd + 1] ?? 0));
  const revisions = [String(2 ** 40), String(2n ** 62n), String(2n ** 63n - 1n), String(2n ** 64n - 1n), '-1', '0', '1.5', 'garbage'];
  const forged = revisions.flatMap((revision) => [zedToken(revision), zedToken(revision, datastoreId)]);
  return [
    ...forged,
    ...forged.map((token) => `${token}.${sealed.slice(sealed.lastIndexOf('.') + 1)}`),
    raw,
    `${raw}.AAAAAAAAAAAAAAAAAAAAAA`,
    `${sealed.slice(0, -1)}${sealed.endsWith('A') ? 'B' : 'A'}`,
    'garbage',
    '.',
    '%00',
  ];
}

function legacyCursor(snapshot: string): string {
  return Buffer.from(JSON.stringify({ s: snapshot, a: 'bot' })).toString('base64url');
}

/** What a client must never get for a token or a cursor: a 5xx, a 2xx, or an error that is not a problem document. */
async function refusal(response: Response, label: string): Promise<string | undefined> {
  const type = response.headers.get('content-type');
  await response.arrayBuffer();
  if (response.status >= 400 && response.status < 500 && type === 'application/problem+json') return undefined;
  return `${label} → ${response.status} ${type ?? ''}`;
}

test('a crafted ZedToken answers 4xx at every door that takes one, as a user and as a service', async (t) => {
  const tokens = await craftedTokens();
  const owner = { type: 'user', id: tenant.owner.id };
  const bodies: Array<[string, Record<string, unknown>]> = [
    ['check', checkBody()],
    ['check', { ...checkBody(), explain: true }],
    ['check-bulk', { items: [checkBody()] }],
    ['lookup-resources', { resource_type: 'chatbot', permission: 'view', subject: owner }],
    ['lookup-subjects', { resource: { type: 'organization', id: tenant.organizationId }, permission: 'view', subject_type: 'user' }],
  ];
  const failures: string[] = [];
  for (const key of [serviceKey, tenant.owner.accessToken]) {
    for (const [door, body] of bodies) {
      if (door === 'lookup-subjects' && key !== serviceKey) continue;
      for (const token of tokens) {
        const response = await service.send('POST', `/api/v1/authz/${door}`, { ...body, consistency: { at_least_as_fresh: token } }, bearer(key));
        const failure = await refusal(response, `${door} ${token}`);
        if (failure) failures.push(failure);
      }
    }
  }
  t.deepEqual(failures, []);
  const refused = await service.send('POST', '/api/v1/authz/check', { ...checkBody(), consistency: { at_least_as_fresh: tokens[0] } }, bearer(serviceKey));
  t.like(await refused.json(), { status: 422, errors: [{ field: 'body.consistency.at_least_as_fresh' }] });
});

test('a crafted lookup cursor answers 4xx, whatever snapshot it names', async (t) => {
  const tokens = await craftedTokens();
  const body = { resource_type: 'chatbot', permission: 'view', subject: { type: 'user', id: tenant.owner.id }, limit: 1 };
  const cursors = [...tokens.map(legacyCursor), ...tokens, legacyCursor(await sealedCheckedAt()), 'garbage', '!!!', 'A'.repeat(4096)];
  const failures: string[] = [];
  for (const key of [serviceKey, tenant.owner.accessToken]) {
    for (const cursor of cursors) {
      const failure = await refusal(await service.send('POST', '/api/v1/authz/lookup-resources', { ...body, cursor }, bearer(key)), cursor);
      if (failure) failures.push(failure);
    }
  }
  t.deepEqual(failures, []);
  const refused = await service.send('POST', '/api/v1/authz/lookup-resources', { ...body, cursor: cursors[0] }, bearer(serviceKey));
  t.like(await refused.json(), { status: 422, errors: [{ field: 'body.cursor' }] });
});

test('a crafted page cursor answers 4xx on every paged list', async (t) => {
  const { organizationId: org, workspaceId: workspace } = tenant;
  const lists: Array<[string, string]> = [
    [tenant.owner.accessToken, '/api/v1/orgs'],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/members`],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/workspaces`],
    [tenant.owner.accessToken, `/api/v1/workspaces/${workspace}/members`],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/teams`],
    [tenant.owner.accessToken, `/api/v1/teams/${teamId}/members`],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/invitations`],
    [serviceKey, `/api/v1/authz/resources/chatbot/${chatbotId}/grants`],
    [tenant.owner.accessToken, `/api/v1/orgs/${org}/audit-events`],
    [tenant.owner.accessToken, '/api/v1/auth/me/audit-events'],
  ];
  const keyset = (time: string, id: string) => Buffer.from(`${time}|${id}`).toString('base64url');
  const cursors = [
    keyset('+275760-09-13T00:00:00.000Z', tenant.workspaceId),
    keyset('-271821-04-20T00:00:00.000Z', tenant.workspaceId),
    keyset('2026-01-01T00:00:00.000Z', '00000000-0000-0000-0000-000000000000'),
    keyset('garbage', 'garbage'),
    ...(await craftedTokens()),
    String(2n ** 62n),
    String(2n ** 63n),
    '-1',
    '0x10',
    '%00',
    'A'.repeat(600),
  ];
  const failures: string[] = [];
  for (const [key, path] of lists) {
    for (const cursor of cursors) {
      const response = await service.request(`${path}?limit=1&cursor=${encodeURIComponent(cursor)}`, { headers: bearer(key) });
      const failure = await refusal(response, `${path} cursor=${cursor}`);
      if (failure) failures.push(failure);
    }
  }
  t.deepEqual(failures, []);
});

test('after every crafted token and cursor, SpiceDB still answers', async (t) => {
  const tokens = await craftedTokens();
  for (const token of tokens) {
    await (await service.send('POST', '/api/v1/authz/check', { ...checkBody(), consistency: { at_least_as_fresh: token } }, bearer(serviceKey))).arrayBuffer();
  }
  const response = await service.send('POST', '/api/v1/authz/check', { ...checkBody(), consistency: 'fully_consistent' }, bearer(serviceKey));
  t.is(response.status, 200);
  t.true(((await response.json()) as CheckBody).allowed);
  const page = await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/workspaces`);
  t.is(page.status, 200);
});

test('a ZedToken the service handed out is taken back, from a check, a tenant write and a relationship write', async (t) => {
  const written = await as(service, tenant.owner).send('PATCH', `/api/v1/orgs/${tenant.organizationId}`, { name: 'Sealed tokens' });
  const relationships = [{ resource: { type: 'chatbot', id: `${chatbotId}_2` }, relation: 'workspace', subject: { type: 'workspace', id: tenant.workspaceId } }];
  const related = await service.send('POST', '/api/v1/authz/relationships', { relationships, on_behalf_of: onBehalfOf(tenant.owner) }, bearer(serviceKey));
  t.is(related.status, 200);
  const tokens = [await sealedCheckedAt(), written.headers.get('zedtoken') ?? '', ((await related.json()) as { written_at: string }).written_at];
  for (const token of tokens) {
    const response = await service.send('POST', '/api/v1/authz/check', { ...checkBody(), consistency: { at_least_as_fresh: token } }, bearer(serviceKey));
    t.is(response.status, 200, token);
    t.true(((await response.json()) as CheckBody).allowed);
  }
});
