import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { makeServiceAccount } from '../support/factories.ts';
import { startTestService } from '../support/test-service.ts';

// examples/client.ts run with README's own commands (a newcomer's service account, not trusted,
// and a signed-in user), end to end: test/readme.test.ts, in the one run of README's blocks.

const run = promisify(execFile);

test('examples/client.ts refuses a token the service did not sign', async (t) => {
  const service = await startTestService();
  t.teardown(() => service.stop());
  const { key } = await makeServiceAccount(service, ['chatbot']);
  const forged = 'eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.';
  const error = await t.throwsAsync(
    run(process.execPath, ['examples/client.ts'], { env: { PATH: process.env.PATH ?? '', BASE_URL: service.url, SERVICE_KEY: key, ACCESS_TOKEN: forged } }),
  );
  t.regex(String((error as { stderr?: string } | undefined)?.stderr), /JWS|JWT|alg/i);
});
