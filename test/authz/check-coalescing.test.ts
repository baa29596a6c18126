import test from 'ava';
import { SpiceDbRejected } from '../../src/authz/spicedb.client.ts';
import { Unavailable } from '../../src/errors.ts';
import type { PermissionQuery } from '../../src/authz/types.ts';
import { bearer, makeServiceAccount, makeUser, onBehalfOf } from '../support/factories.ts';
import { spicedbCalls } from '../support/metrics.ts';
import { startTestService, useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const canView = (type: string, id: string, userId: string): PermissionQuery => ({
  resource: { type, id },
  permission: 'view',
  subject: { type: 'user', id: userId },
});

/** The SpiceDB check calls `work` made, by method. */
async function callsDuring(work: () => Promise<unknown>) {
  const count = () => Promise.all([spicedbCalls(service, 'CheckBulkPermissions'), spicedbCalls(service, 'CheckPermission')]);
  const [bulkBefore, singleBefore] = await count();
  await work();
  const [bulkAfter, singleAfter] = await count();
  return { bulk: bulkAfter - bulkBefore, single: singleAfter - singleBefore };
}

// One test: the call counts read the whole service's metrics.
test('default checks asked in one event-loop turn go to SpiceDB together, one call per floor and at most 1,000 per call, each with its own answer or error', async (t) => {
  const owner = await makeUser(service);
  const { key } = await makeServiceAccount(service);
  const chatbot = `bot_${owner.id.slice(0, 8)}`;
  const registered = await service.send(
    'POST',
    '/api/v1/authz/relationships',
    {
      relationships: [{ resource: { type: 'chatbot', id: chatbot }, relation: 'workspace', subject: { type: 'workspace', id: owner.workspaceId } }],
      on_behalf_of: onBehalfOf(owner),
    },
    bearer(key),
  );
  t.is(registered.status, 200);

  // Distinct subjects, so the decision cache answers none of them.
  const strangers = Array.from({ length: 20 }, (_, index) => canView('organization', owner.organizationId, `nobody-${index}-${owner.id}`));
  const badItem = { ...canView('organization', owner.organizationId, owner.id), permission: 'no_such_permission' };
  let answers: PromiseSettledResult<{ allowed: boolean }>[] = [];
  const calls = await callsDuring(async () => {
    answers = await Promise.allSettled([
      service.spicedb.checkPermission(canView('chatbot', chatbot, owner.id)),
      service.spicedb.checkPermission(canView('organization', owner.organizationId, owner.id)),
      ...strangers.map((query) => service.spicedb.checkPermission(query)),
      service.spicedb.checkPermission(badItem),
    ]);
  });
  const [chatbotAnswer, ownerAnswer, ...rest] = answers;
  const badAnswer = rest.pop();
  t.like(chatbotAnswer, { status: 'fulfilled', value: { allowed: true } }, 'the registration acknowledged just before is seen');
  t.like(ownerAnswer, { status: 'fulfilled', value: { allowed: true } });
  t.true(rest.every((answer) => answer.status === 'fulfilled' && !answer.value.allowed), 'each stranger is denied');
  t.true(badAnswer?.status === 'rejected' && badAnswer.reason instanceof SpiceDbRejected, 'the bad item fails alone');
  t.deepEqual(calls, { bulk: 1, single: 1 }, 'the chatbot written moments ago reads at the newest revision, alone; the rest together');

  t.deepEqual(
    await callsDuring(() => Promise.all(strangers.map((query) => service.spicedb.checkPermission(query)))),
    { bulk: 0, single: 0 },
    'answers that came together are kept like any other',
  );
  t.deepEqual(
    await callsDuring(() => service.spicedb.checkPermission(canView('organization', owner.organizationId, `someone-${owner.id}`))),
    { bulk: 0, single: 1 },
    'a lone check is a CheckPermission',
  );

  const crowd = Array.from({ length: 1_002 }, (_, index) => canView('organization', owner.organizationId, `crowd-${index}-${owner.id}`));
  t.deepEqual(
    await callsDuring(() => Promise.all(crowd.map((query) => service.spicedb.checkPermission(query)))),
    { bulk: 2, single: 0 },
    'at most 1,000 checks per call',
  );
});

test('checks still waiting for their turn when the client closes answer 503, as does every later call', async (t) => {
  const closing = await startTestService();
  try {
    const waiting = closing.spicedb.checkPermission(canView('organization', 'any', 'anyone'));
    closing.spicedb.close();
    await t.throwsAsync(waiting, { instanceOf: Unavailable });
    await t.throwsAsync(closing.spicedb.readSchema(), { instanceOf: Unavailable });
  } finally {
    await closing.stop();
  }
});
