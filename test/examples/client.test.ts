import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { makeServiceAccount, signUp } from '../support/factories.ts';
import { startTestService, type TestService } from '../support/test-service.ts';

const run = promisify(execFile);

let service: TestService;
test.before(async () => {
  service = await startTestService();
});
test.after.always(async () => {
  await service?.stop();
});

// The README shows examples/client.ts: running it here keeps it working.
test('examples/client.ts verifies a token, registers a chatbot and checks it against the running service', async (t) => {
  const user = await signUp(service);
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const { stdout } = await run(process.execPath, ['examples/client.ts'], {
    env: { PATH: process.env.PATH ?? '', BASE_URL: service.url, SERVICE_KEY: key, ACCESS_TOKEN: user.accessToken, CHATBOT_ID: 'example_bot' },
  });
  t.deepEqual(stdout.trim().split('\n'), [
    `verified: user ${user.id}, organization ${user.organizationId}, workspace ${user.workspaceId}`,
    `registered: chatbot:example_bot in workspace:${user.workspaceId}`,
    `checked: user ${user.id} may edit chatbot:example_bot`,
  ]);
});

test('examples/client.ts refuses a token the service did not sign', async (t) => {
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const forged = 'eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.';
  const error = await t.throwsAsync(
    run(process.execPath, ['examples/client.ts'], { env: { PATH: process.env.PATH ?? '', BASE_URL: service.url, SERVICE_KEY: key, ACCESS_TOKEN: forged } }),
  );
  t.regex(String((error as { stderr?: string } | undefined)?.stderr), /JWS|JWT|alg/i);
});
