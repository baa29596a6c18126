import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import test from 'ava';
import { makeServiceAccount } from '../support/factories.ts';
import { runInFreshClone, shellBlocks } from '../support/readme.ts';
import { startTestService } from '../support/test-service.ts';

const run = promisify(execFile);

// The README shows examples/client.ts with the commands that set it up: a newcomer's service
// account (not trusted) and signed-in user. Running those very commands, not a test's own
// set-up, is what keeps the example working as the README tells it.
test("README's commands up to examples/client.ts register a chatbot on behalf of the signed-in user and check it", async (t) => {
  t.timeout(10 * 60_000);
  const blocks = shellBlocks(readFileSync('README.md', 'utf8'));
  const client = blocks.findIndex((block) => block.mode === 'run' && /node examples\/client\.ts/.test(block.code));
  t.not(client, -1, 'README runs examples/client.ts');

  const { code, stdout } = await runInFreshClone(t, blocks.slice(0, client + 1));

  t.is(code, 0);
  // The example's three lines end the output (curl's answers before them end with no newline).
  const uuid = '[0-9a-f-]{36}';
  t.regex(
    stdout,
    new RegExp(
      `verified: user (${uuid}), organization ${uuid}, workspace (${uuid})\\n` +
        'registered: chatbot:(bot_\\w+) in workspace:\\2, for user \\1\\n' +
        'checked: user \\1 may edit chatbot:\\3\\n$',
    ),
  );
});

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
