import { randomBytes } from 'node:crypto';
import test from 'ava';
import { Seals } from '../../src/services/seals.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

test('a cursor opens only for the context it was sealed for, and only as it was sealed', (t) => {
  const seals = new Seals(randomBytes(32));
  const cursor = seals.sealCursor('2026-12-14T09:00:00.000Z|secret-id', 'page /api/v1/orgs');
  t.is(seals.openCursor(cursor, 'page /api/v1/orgs'), '2026-12-14T09:00:00.000Z|secret-id');
  t.false(Buffer.from(cursor, 'base64url').toString('latin1').includes('secret-id'));
  t.is(seals.openCursor(cursor, 'page /api/v1/orgs/x/members'), undefined, 'another list');
  for (const at of [0, 15, cursor.length - 1]) {
    t.is(seals.openCursor(`${cursor.slice(0, at)}${cursor[at] === 'A' ? 'B' : 'A'}${cursor.slice(at + 1)}`, 'page /api/v1/orgs'), undefined, `altered at ${at}`);
  }
  t.is(seals.openCursor(`${cursor}!`, 'page /api/v1/orgs'), undefined, 'characters base64url has not');
  t.is(seals.openCursor('', 'page /api/v1/orgs'), undefined);
  t.not(seals.sealCursor('same', 'c'), seals.sealCursor('same', 'c'), 'a fresh nonce each time');
});

test('a ZedToken opens only with its own MAC, under the secret that sealed it', (t) => {
  const seals = new Seals(randomBytes(32));
  const sealed = seals.sealZedToken('GhUKEzE3OTYxNjg5Njk3MTI4NTAwMzM=');
  t.is(seals.openZedToken(sealed), 'GhUKEzE3OTYxNjg5Njk3MTI4NTAwMzM=');
  t.is(seals.openZedToken('GhUKEzE3OTYxNjg5Njk3MTI4NTAwMzM='), undefined, 'unsealed');
  t.is(seals.openZedToken(`${sealed.slice(0, 4)}x${sealed.slice(5)}`), undefined, 'another revision under the same MAC');
  t.is(new Seals(randomBytes(32)).openZedToken(sealed), undefined, 'another secret');
});

test('every instance on one database derives the same keys from the secret the first one stored', async (t) => {
  const [first, second] = await Promise.all([Seals.load(service.orm, undefined), Seals.load(service.orm, undefined)]);
  t.is(second.openCursor(first.sealCursor('payload', 'context'), 'context'), 'payload');
  t.is(second.openZedToken(first.sealZedToken('token')), 'token');
  const configured = await Seals.load(service.orm, 'a configured secret of at least 32 characters');
  t.is(configured.openZedToken(first.sealZedToken('token')), undefined, 'SERVER_SECRET replaces the stored one');
});
