import test from 'ava';
import { bearer, makeServiceAccount, makeTenant } from '../support/factories.ts';
import { seed } from '../support/seeding-services.ts';
import { useTestService } from '../support/test-service.ts';

/**
 * An account created with `--org` learns about a token only if its user is a member of one of its
 * organizations: any other live token is `{active: false}` for it, as a resource of another
 * tenant is invisible to it. An unscoped account sees every live token.
 */

const service = useTestService(test);

function introspect(key: string, token: string) {
  return service.send('POST', '/api/v1/auth/introspect', { token }, bearer(key));
}

test('an --org scoped service account sees only tokens of its organizations\' members as active', async (t) => {
  const tenant = await makeTenant(service);
  const scoped = await makeServiceAccount(service, ['chatbot'], { organizationIds: [tenant.organizationId] });
  const unscoped = await makeServiceAccount(service, ['chatbot'], {});

  for (const user of [tenant.owner, tenant.member]) {
    t.like(await (await introspect(scoped.key, user.accessToken)).json(), { active: true, sub: user.id }, 'a member of its organization');
  }
  // The stranger is a member of an organization of their own, another tenant.
  t.deepEqual(await (await introspect(scoped.key, tenant.stranger.accessToken)).json(), { active: false });
  t.like(await (await introspect(unscoped.key, tenant.stranger.accessToken)).json(), { active: true, sub: tenant.stranger.id });
});

test('a member who leaves the organization stops being active for its scoped account, at once', async (t) => {
  const tenant = await makeTenant(service);
  const scoped = await makeServiceAccount(service, ['chatbot'], { organizationIds: [tenant.organizationId] });
  const unscoped = await makeServiceAccount(service, ['chatbot'], {});
  t.like(await (await introspect(scoped.key, tenant.member.accessToken)).json(), { active: true });
  await seed(service, ({ members }) => members.remove(tenant.owner.id, tenant.organizationId, tenant.member.id));
  t.deepEqual(await (await introspect(scoped.key, tenant.member.accessToken)).json(), { active: false });
  t.like(await (await introspect(unscoped.key, tenant.member.accessToken)).json(), { active: true }, 'the token itself still lives');
});

test('an account scoped to several organizations sees the members of each', async (t) => {
  const [first, second] = [await makeTenant(service), await makeTenant(service)];
  const scoped = await makeServiceAccount(service, ['chatbot'], { organizationIds: [first.organizationId, second.organizationId] });
  for (const user of [first.member, second.member]) {
    t.like(await (await introspect(scoped.key, user.accessToken)).json(), { active: true, sub: user.id });
  }
});
