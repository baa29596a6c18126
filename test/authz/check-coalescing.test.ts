import test from 'ava';
import { SpiceDbRejected } from '../../src/authz/spicedb.client.ts';
import { makeUser } from '../support/factories.ts';
import { spicedbCalls } from '../support/metrics.ts';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const canView = (organizationId: string, userId: string) => ({
  resource: { type: 'organization', id: organizationId },
  permission: 'view',
  subject: { type: 'user', id: userId },
});

// One test per file: the call counts read the whole service's metrics.
test('default checks asked in the same event-loop turn go to SpiceDB as one bulk call, each with its own answer or error', async (t) => {
  const owner = await makeUser(service);
  const outsider = await makeUser(service);
  const [bulkBefore, singleBefore] = await Promise.all([
    spicedbCalls(service, 'CheckBulkPermissions'),
    spicedbCalls(service, 'CheckPermission'),
  ]);

  // Distinct subjects, so the decision cache answers none of them.
  const strangers = Array.from({ length: 20 }, (_, index) => canView(owner.organizationId, `nobody-${index}-${outsider.id}`));
  const answers = await Promise.allSettled([
    service.spicedb.checkPermission(canView(owner.organizationId, owner.id)),
    ...strangers.map((query) => service.spicedb.checkPermission(query)),
    service.spicedb.checkPermission({ ...canView(owner.organizationId, outsider.id), permission: 'no_such_permission' }),
  ]);

  const [ownerAnswer, ...rest] = answers;
  const badAnswer = rest.pop();
  t.like(ownerAnswer, { status: 'fulfilled', value: { allowed: true } });
  t.true(rest.every((answer) => answer.status === 'fulfilled' && !answer.value.allowed), 'each stranger is denied');
  t.is(badAnswer?.status, 'rejected', 'the bad item fails alone');
  t.true(badAnswer?.status === 'rejected' && badAnswer.reason instanceof SpiceDbRejected);
  t.is((await spicedbCalls(service, 'CheckBulkPermissions')) - bulkBefore, 1);
  t.is((await spicedbCalls(service, 'CheckPermission')) - singleBefore, 0);
});
