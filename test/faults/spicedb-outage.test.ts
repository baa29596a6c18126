import test from 'ava';
import { decodeJwt } from 'jose';
import { OrganizationMembership, User } from '../../src/db/entities/index.ts';
import { eventually } from '../support/eventually.ts';
import { as, bearer, makeServiceAccount, makeTenant, newSignup } from '../support/factories.ts';
import type { SessionBody } from '../support/responses.ts';
import { canRunSpiceDbServer, startServiceBehindProxy, type TcpProxy } from '../support/spicedb-server.ts';
import type { TestService } from '../support/test-service.ts';

/**
 * A real `spicedb serve` behind a TCP proxy that the tests cut and restore. Serial: one outage
 * at a time. Skipped where the spicedb binary is not built (bash scripts/tools.sh spicedb); CI builds it.
 */
const serial = canRunSpiceDbServer ? test.serial : test.skip;

let proxy: TcpProxy;
let service: TestService;
let stop: (() => Promise<void>) | undefined;
test.before(async () => {
  if (!canRunSpiceDbServer) return;
  ({ service, proxy, stop } = await startServiceBehindProxy({ SPICEDB_TIMEOUT_MS: '500', OUTBOX_POLL_MS: '100' }));
});
test.after.always(async () => {
  await stop?.();
});

serial('while SpiceDB is unreachable, guarded organization routes answer 503, never 200, and change nothing', async (t) => {
  const tenant = await makeTenant(service);
  const org = `/api/v1/orgs/${tenant.organizationId}`;
  await proxy.disconnect();
  try {
    const calls: Array<[string, string, unknown?]> = [
      ['GET', org],
      ['PATCH', org, { name: 'During outage' }],
      ['DELETE', org],
      ['POST', `${org}/members`, { user_id: tenant.stranger.id, role: 'member' }],
      ['GET', `${org}/members`],
      ['PATCH', `${org}/members/${tenant.member.id}`, { role: 'admin' }],
      ['DELETE', `${org}/members/${tenant.member.id}`],
      ['GET', `${org}/billing`],
      ['PATCH', `${org}/billing`, { billing_email: 'finance@example.com' }],
      ['POST', `${org}/transfer-ownership`, { user_id: tenant.admin.id }],
      ['GET', '/api/v1/orgs'],
    ];
    for (const [method, path, body] of calls) {
      const response = await as(service, tenant.owner).send(method, path, body);
      t.is(response.status, 503, `${method} ${path}`);
      t.is(response.headers.get('content-type'), 'application/problem+json');
    }
    t.is((await service.request('/readyz')).status, 503);
  } finally {
    await proxy.reconnect();
  }
  const members = await service.orm.em.fork().find(OrganizationMembership, { organization: tenant.organizationId });
  t.deepEqual(members.map((membership) => membership.role).sort(), ['admin', 'member', 'owner']);
  t.true(await eventually(async () => (await service.request('/readyz').catch(() => undefined))?.status === 200), 'ready again without a restart');
  t.is((await as(service, tenant.member).get(org)).status, 200);
});

serial('while SpiceDB is unreachable, the AuthZEN door answers 503 (fail closed), never a decision', async (t) => {
  const tenant = await makeTenant(service);
  const { key } = await makeServiceAccount(service);
  const subject = { type: 'user', id: tenant.member.id };
  const resource = { type: 'organization', id: tenant.organizationId };
  const action = { name: 'view' };
  await proxy.disconnect();
  try {
    const calls: Array<[string, unknown]> = [
      ['evaluation', { subject, action, resource }],
      ['evaluations', { subject, action, evaluations: [{ resource }, { resource }] }],
      ['search/subject', { subject: { type: 'user' }, action, resource }],
      ['search/resource', { subject, action, resource: { type: 'organization' } }],
      ['search/action', { subject, resource }],
    ];
    for (const [path, body] of calls) {
      const response = await service.send('POST', `/access/v1/${path}`, body, bearer(key));
      t.is(response.status, 503, path);
      t.regex(response.headers.get('content-type') ?? '', /^text\/plain/, path);
    }
  } finally {
    await proxy.reconnect();
  }
});

serial('a signup committed while SpiceDB is down reaches SpiceDB through the outbox once it is back', async (t) => {
  const input = newSignup();
  await proxy.disconnect();
  let signup: Response;
  try {
    signup = await service.send('POST', '/api/v1/auth/email/signup', input);
  } finally {
    await proxy.reconnect();
  }
  t.is(signup.status, 201);
  const issued = decodeJwt(((await signup.json()) as SessionBody).access_token);
  t.deepEqual(issued.permissions, [], 'without SpiceDB the hint claims nothing');
  const user = await service.orm.em.fork().findOneOrFail(User, { email: input.email });
  const membership = await service.orm.em.fork().findOneOrFail(OrganizationMembership, { user });
  t.is(membership.role, 'owner', 'Postgres committed the signup');

  t.true(
    await eventually(async () => {
      const check = await service.spicedb
        .checkPermission(
          { resource: { type: 'organization', id: membership.organization.id }, permission: 'delete', subject: { type: 'user', id: user.id } },
          { kind: 'fully_consistent' },
        )
        .catch(() => ({ allowed: false }));
      return check.allowed;
    }),
    'the relay delivered the owner tuple with no manual step',
  );
  const login = await service.send('POST', '/api/v1/auth/email/login', { email: input.email, password: input.password });
  t.is(login.status, 200);
  const claims = decodeJwt(((await login.json()) as SessionBody).access_token);
  t.true((claims.permissions as string[]).includes('org:delete'));
});
