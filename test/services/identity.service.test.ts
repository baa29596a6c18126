import test from 'ava';
import { RequestContext } from '@mikro-orm/core';
import { TenantAccess } from '../../src/authz/access.ts';
import { Authorizer } from '../../src/authz/authorizer.ts';
import { RelationshipWriter } from '../../src/authz/relationship-writer.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AccessTokens } from '../../src/services/access-tokens.ts';
import { IdentityService } from '../../src/services/identity.service.ts';
import { LoginThrottle } from '../../src/services/login-throttle.ts';
import { OrganizationService } from '../../src/services/organization.service.ts';
import { PasswordHasher } from '../../src/services/password-hasher.ts';
import { makeUser } from '../support/factories.ts';
import { startTestService } from '../support/test-service.ts';

/** A real hasher that counts its verifications. */
class CountingHasher extends PasswordHasher {
  verifications = 0;
  override async verify(password: string, encoded: string | undefined): Promise<boolean> {
    this.verifications++;
    return super.verify(password, encoded);
  }
}

test('login does a hash verification whether or not the email exists', async (t) => {
  const service = await startTestService();
  t.teardown(() => service.stop());
  const user = await makeUser(service);
  const config = loadConfig({ DATABASE_URL: service.database.url });
  const hasher = new CountingHasher(10);
  const authorizer = new Authorizer(service.spicedb);
  const access = new TenantAccess(authorizer);
  const identity = new IdentityService(
    service.orm,
    hasher,
    new LoginThrottle(config.loginThrottle),
    await AccessTokens.load(service.orm, config.jwt),
    authorizer,
    access,
    new OrganizationService(
      service.orm,
      service.outbox,
      new RelationshipWriter(service.orm, service.spicedb, service.outbox, createLogger('silent')),
      authorizer,
      access,
      config.planLimits,
    ),
    config.jwt.refreshTtlSeconds,
  );
  const attempt = (email: string) =>
    RequestContext.create(service.orm.em, () => identity.login({ email, password: 'wrong-password' }, '192.0.2.1'));

  await t.throwsAsync(attempt(user.email));
  t.is(hasher.verifications, 1);
  await t.throwsAsync(attempt(`nobody-${user.username}@example.com`));
  t.is(hasher.verifications, 2);
});
