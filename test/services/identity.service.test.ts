import { SessionRevocations } from '../../src/authz/session-revocations.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import test from 'ava';
import { RequestContext } from '@mikro-orm/core';
import { TenantAccess } from '../../src/authz/access.ts';
import { Authorizer } from '../../src/authz/authorizer.ts';
import { TenantUnitOfWork } from '../../src/authz/tenant-unit-of-work.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AccessTokens } from '../../src/services/access-tokens.ts';
import { IdentityService } from '../../src/services/identity.service.ts';
import { LoginThrottle } from '../../src/services/login-throttle.ts';
import { OrganizationService } from '../../src/services/organization.service.ts';
import { PasswordHasher } from '../../src/services/password-hasher.ts';
import { SessionService } from '../../src/services/session.service.ts';
import { makeUser } from '../support/factories.ts';
import { startTestService } from '../support/test-service.ts';

/** A real hasher that counts its verifications. */
class CountingHasher extends PasswordHasher {
  verifications = 0;
  override admit() {
    const ticket = super.admit();
    return {
      verify: (password: string, encoded: string | undefined) => {
        this.verifications++;
        return ticket.verify(password, encoded);
      },
      release: () => ticket.release(),
    };
  }
}

test('login does a hash verification whether or not the email exists', async (t) => {
  const service = await startTestService();
  t.teardown(() => service.stop());
  const user = await makeUser(service);
  const config = loadConfig({ DATABASE_URL: service.database.url });
  const hasher = new CountingHasher(10);
  const revocations = await SessionRevocations.open(service.database.url, service.orm, config.jwt.accessTtlSeconds, new Metrics(), createLogger('silent'));
  t.teardown(() => revocations.close());
  const authorizer = new Authorizer(service.spicedb);
  const access = new TenantAccess(authorizer);
  const tokens = await AccessTokens.load(service.orm, config.jwt);
  const identity = new IdentityService(
    service.orm,
    hasher,
    new LoginThrottle(config.loginThrottle),
    new SessionService(service.orm, tokens, authorizer, revocations, config.jwt.refreshTtlSeconds),
    tokens,
    access,
    new OrganizationService(
      service.orm,
      service.outbox,
      service.relay,
      new TenantUnitOfWork(service.orm, service.spicedb, service.outbox, service.relay, createLogger('silent')),
      authorizer,
      access,
      config.planLimits,
    ),
    revocations,
    createLogger('silent'),
  );
  const attempt = (email: string) =>
    RequestContext.create(service.orm.em, () => identity.login({ email, password: 'wrong-password' }, '192.0.2.1'));

  await t.throwsAsync(attempt(user.email));
  t.is(hasher.verifications, 1);
  await t.throwsAsync(attempt(`nobody-${user.username}@example.com`));
  t.is(hasher.verifications, 2);
});
