import test from 'ava';
import { PasswordHasher } from '../../src/services/password-hasher.ts';

test("hashes use scrypt at OWASP's parameters (N=2^17, r=8, p=1) with a per-password salt", async (t) => {
  const hasher = new PasswordHasher(17);
  const [first, second] = await Promise.all([hasher.hash('correct horse'), hasher.hash('correct horse')]);
  const [scheme, n, r, p, salt] = first.split('$');
  t.deepEqual([scheme, n, r, p], ['scrypt', String(2 ** 17), '8', '1']);
  t.is(Buffer.from(salt ?? '', 'base64').length, 16);
  t.not(first, second, 'the same password hashes differently');
  t.true(await hasher.verify('correct horse', first));
  t.false(await hasher.verify('correct horse!', first));
});

test('a hash made at an older cost still verifies after the cost is raised', async (t) => {
  const old = await new PasswordHasher(10).hash('s3cret-pass');
  t.true(await new PasswordHasher(12).verify('s3cret-pass', old));
});

test('verifying against no stored hash is a failure, never a success', async (t) => {
  const hasher = new PasswordHasher(10);
  t.false(await hasher.verify('anything', undefined));
  t.false(await hasher.verify('anything', 'not-a-hash'));
});

test('each lane has its own slots and queue: a full open lane refuses (503) while the recognized lane still admits', async (t) => {
  const hasher = new PasswordHasher(10, { concurrency: 1, queue: 1 });
  const open = [hasher.admit('open'), hasher.admit('open')];
  const refused = t.throws(() => hasher.admit('open'));
  t.is(refused?.name, 'Overloaded');
  const recognized = hasher.admit('recognized');
  t.true(await recognized.verify('x', await recognized.hash('x')), 'it hashes while the open lane is full');
  for (const ticket of [...open, recognized]) ticket.release();
  t.notThrows(() => hasher.admit('open').release(), 'released places are free again');
});

test('a hash made with other parameters than the current cost needs rehashing; one made with them does not', async (t) => {
  const current = new PasswordHasher(11);
  t.true(current.needsRehash(await new PasswordHasher(10).hash('s3cret-pass')));
  t.false(current.needsRehash(await current.hash('s3cret-pass')));
});
