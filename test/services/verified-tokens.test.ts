import test from 'ava';
import type { AccessTokenClaims } from '../../src/services/access-tokens.ts';
import { VerifiedTokens } from '../../src/services/verified-tokens.ts';

const claimsUntil = (expiresAt: number, userId = 'u1'): AccessTokenClaims => ({
  userId,
  sessionId: 's1',
  expiresAt: new Date(expiresAt),
  organizationId: null,
  workspaceId: null,
  permissions: [],
  emailVerified: false,
});

test('a token is recalled until its expiry plus the clock tolerance, then forgotten', (t) => {
  let now = 1_000_000;
  const memo = new VerifiedTokens(10, 5_000, () => now);
  const key = VerifiedTokens.keyOf('header.payload.signature');
  memo.remember(key, claimsUntil(now + 60_000));
  now += 64_999;
  t.is(memo.recall(key)?.userId, 'u1');
  now += 1;
  t.is(memo.recall(key), undefined);
  t.is(memo.size, 0, 'an expired entry leaves the memo');
});

test('the memo is keyed by the SHA-256 of the token, never the token itself', (t) => {
  const key = VerifiedTokens.keyOf('header.payload.signature');
  t.is(key.length, 43);
  t.false(key.includes('payload'));
  t.not(VerifiedTokens.keyOf('header.payload.signaturf'), key, 'a token altered by one character is another entry');
});

test('past its capacity the memo forgets the token remembered longest ago', (t) => {
  const memo = new VerifiedTokens(2, 0, () => 0);
  const [a, b, c] = ['a', 'b', 'c'].map((token) => VerifiedTokens.keyOf(token)) as [string, string, string];
  memo.remember(a, claimsUntil(1_000, 'a'));
  memo.remember(b, claimsUntil(1_000, 'b'));
  memo.remember(c, claimsUntil(1_000, 'c'));
  t.is(memo.recall(a), undefined);
  t.is(memo.recall(b)?.userId, 'b');
  t.is(memo.recall(c)?.userId, 'c');
});

test('a memo of capacity 0 remembers nothing', (t) => {
  const memo = new VerifiedTokens(0, 0, () => 0);
  const key = VerifiedTokens.keyOf('t');
  memo.remember(key, claimsUntil(1_000));
  t.is(memo.recall(key), undefined);
});
