import test from 'ava';
import { User } from '../../src/db/entities/index.ts';
import { PasswordHasher } from '../../src/services/password-hasher.ts';
import { makeUser } from '../support/factories.ts';
import { passwordHashes } from '../support/metrics.ts';
import { useTestService } from '../support/test-service.ts';

// One above the suite's cost, so a hash made at the suite's usual cost is an older one here.
const COST = 11;
const service = useTestService(test, { environment: { PASSWORD_HASH_COST: String(COST) } });

// Serial: each test counts the hashes the service computes.
const login = (email: string, password: string) => service.send('POST', '/api/v1/auth/email/login', { email, password });

/** The scrypt parameters of the user's stored hash: `N$r$p`. */
async function storedParameters(userId: string): Promise<string> {
  const user = await service.orm.em.fork().findOneOrFail(User, { id: userId }, { populate: ['passwordHash'] });
  return user.passwordHash.split('$').slice(1, 4).join('$');
}

test.serial('login does a hash verification whether or not the email exists', async (t) => {
  const user = await makeUser(service);
  const before = await passwordHashes(service, 'verify');
  t.is((await login(user.email, 'wrong-password')).status, 401);
  t.is((await passwordHashes(service, 'verify')) - before, 1);
  t.is((await login(`nobody-${user.username}@example.com`, 'wrong-password')).status, 401);
  t.is((await passwordHashes(service, 'verify')) - before, 2);
});

test.serial('a hash stored at an older PASSWORD_HASH_COST is replaced at the current cost by the next successful login, not by a failed one', async (t) => {
  const user = await makeUser(service);
  const older = await new PasswordHasher(COST - 1).hash(user.password);
  await service.orm.em.fork().nativeUpdate(User, { id: user.id }, { passwordHash: older });
  t.is(await storedParameters(user.id), `${2 ** (COST - 1)}$8$1`);

  t.is((await login(user.email, 'wrong-password')).status, 401);
  t.is(await storedParameters(user.id), `${2 ** (COST - 1)}$8$1`, 'a wrong password changes nothing');

  t.is((await login(user.email, user.password)).status, 200);
  t.is(await storedParameters(user.id), `${2 ** COST}$8$1`, 'rehashed at the current cost');
  t.is((await login(user.email, user.password)).status, 200, 'the new hash verifies the same password');
  t.is((await login(user.email, 'wrong-password')).status, 401);
});
