import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { chainHash } from '../../src/audit/audit-chain.ts';
import { AUDIT_COLUMNS, fromAuditRow, type AuditRow } from '../../src/audit/audit-log.ts';
import { as, makeTenant, type Tenant } from '../support/factories.ts';
import { startTestService, useTestService, type TestService } from '../support/test-service.ts';

/**
 * Someone who can write the database (here the tests' own connection, the `postgres` superuser)
 * can rewrite an audit event and recompute every later hash, or delete the newest event: the
 * chain still verifies against itself. A checkpoint signed with AUDIT_CHECKPOINT_KEY, a key the
 * database does not hold, and kept outside it, catches both.
 */

function ed25519() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { private: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), public: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const key = ed25519();
const service = useTestService(test, { environment: { AUDIT_CHECKPOINT_KEY: key.private, AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1' } });
let unkeyed: TestService;
let directory: string;
let publicKeyFile: string;
test.before(async () => {
  unkeyed = await startTestService();
  directory = await mkdtemp(join(tmpdir(), 'audit-checkpoints-'));
  publicKeyFile = join(directory, 'checkpoint-key.pub.pem');
  await writeFile(publicKeyFile, key.public);
});
test.after.always(async () => {
  await unkeyed?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

interface CheckpointBody {
  chain: string;
  position: number;
  hash: string;
  signed_at: string;
  key_id: string;
  signature: string;
}

/** A tenant with seven events in its chain. */
async function tenantWithHistory(on: TestService = service): Promise<Tenant> {
  const tenant = await makeTenant(on);
  const base = `/api/v1/orgs/${tenant.organizationId}`;
  await as(on, tenant.owner).send('PATCH', base, { name: 'One' });
  await as(on, tenant.owner).send('PATCH', base, { name: 'Two' });
  await as(on, tenant.owner).send('PATCH', `${base}/members/${tenant.member.id}`, { role: 'admin' });
  return tenant;
}

/** What an auditor keeps: the organization's checkpoint as the API answers it, in a file outside the database. */
async function keptCheckpoint(tenant: Tenant): Promise<{ file: string; checkpoint: CheckpointBody }> {
  const response = await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-checkpoint`);
  if (response.status !== 200) throw new Error(`the checkpoint answered ${response.status}: ${await response.text()}`);
  const checkpoint = (await response.json()) as CheckpointBody;
  const file = join(directory, `${tenant.organizationId}.json`);
  await writeFile(file, JSON.stringify(checkpoint));
  return { file, checkpoint };
}

async function verify(args: string[], environment: Record<string, string> = { AUDIT_CHECKPOINT_KEY: key.private }, database = service.database.url) {
  const run = promisify(execFile)(process.execPath, ['src/cli/main.ts', 'audit', 'verify', ...args], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: database, LOG_LEVEL: 'silent', ...environment },
  });
  return run.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** As a database superuser: triggers bypassed, event `position` edited, every later hash recomputed. */
async function rewriteHistory(organizationId: string, position: number): Promise<void> {
  await service.orm.em.fork().transactional(async (em) => {
    await em.execute("set local session_replication_role = 'replica'");
    await em.execute(`update audit_events set changes = '{"role": ["member", "owner"]}' where organization_id = ? and position = ?`, [organizationId, position]);
    const rows = await em.execute<AuditRow[]>(`select ${AUDIT_COLUMNS} from audit_events where organization_id = ? order by position`, [organizationId]);
    let previous = '';
    for (const event of rows.map(fromAuditRow)) {
      const hash = chainHash(previous, event);
      if (hash !== event.hash) await em.execute('update audit_events set hash = ? where id = ?', [hash, event.id]);
      previous = hash;
    }
  });
}

/** As a database superuser: the newest event deleted. */
async function deleteNewestEvent(organizationId: string): Promise<void> {
  await service.orm.em.fork().transactional(async (em) => {
    await em.execute("set local session_replication_role = 'replica'");
    await em.execute('delete from audit_events where organization_id = ? and position = (select max(position) from audit_events where organization_id = ?)', [
      organizationId,
      organizationId,
    ]);
  });
}

/** What a careful intruder also does: delete the checkpoints the database holds. */
async function deleteStoredCheckpoints(organizationId: string): Promise<void> {
  await service.orm.em.fork().execute('delete from audit_checkpoints where chain = ?', [`organization:${organizationId}`]);
}

test('an untouched chain verifies against the checkpoints of the API and of the export', async (t) => {
  const tenant = await tenantWithHistory();
  const { file, checkpoint } = await keptCheckpoint(tenant);
  t.like(checkpoint, { chain: `organization:${tenant.organizationId}`, position: 7 });
  const exported = await as(service, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-events/export`);
  t.is(exported.status, 200);
  const header = exported.headers.get('audit-checkpoint') ?? '';
  t.is(header, checkpoint.signature, 'the export stops at the head the checkpoint signs');
  await exported.text();
  const exportFile = join(directory, `${tenant.organizationId}.export-checkpoint`);
  await writeFile(exportFile, `${header}\n`);

  const verified = await verify([tenant.organizationId, '--checkpoint', file, '--checkpoint', exportFile]);
  t.is(verified.code, 0, verified.stdout);
  t.regex(verified.stdout, new RegExp(`ok +organization:${tenant.organizationId} 7 events, held to \\d+ checkpoints?`));
});

test('a rewrite that recomputed the later hashes verifies alone, and fails with the kept checkpoint', async (t) => {
  const tenant = await tenantWithHistory();
  const { file } = await keptCheckpoint(tenant);
  await deleteStoredCheckpoints(tenant.organizationId);
  await rewriteHistory(tenant.organizationId, 5);

  const alone = await verify([tenant.organizationId], {});
  t.is(alone.code, 0, 'the chain agrees with itself');
  t.regex(alone.stderr, /Whoever can write the database can rewrite a chain/);

  // With the key in the environment, as the service has it, or with only its public half, as an auditor has it.
  const keyed: Array<[Record<string, string>, string[]]> = [
    [{ AUDIT_CHECKPOINT_KEY: key.private }, []],
    [{}, ['--key', publicKeyFile]],
  ];
  for (const [environment, keyArguments] of keyed) {
    const held = await verify([tenant.organizationId, '--checkpoint', file, ...keyArguments], environment);
    t.is(held.code, 1, held.stdout);
    t.regex(held.stdout, new RegExp(`BROKEN organization:${tenant.organizationId} at position 7: rewritten`));
  }
});

test('deleting the newest event verifies alone, and fails with the kept checkpoint', async (t) => {
  const tenant = await tenantWithHistory();
  const { file } = await keptCheckpoint(tenant);
  await deleteStoredCheckpoints(tenant.organizationId);
  await deleteNewestEvent(tenant.organizationId);

  t.is((await verify([tenant.organizationId], {})).code, 0, 'the chain agrees with itself');
  const held = await verify([tenant.organizationId, '--checkpoint', file]);
  t.is(held.code, 1, held.stdout);
  t.regex(held.stdout, new RegExp(`BROKEN organization:${tenant.organizationId} at position 7: truncated: .* names position 7, but the chain ends at position 6`));
});

test('the newest checkpoint in the database catches a rewrite or a truncation by an intruder who left it there', async (t) => {
  const [rewritten, truncated] = [await tenantWithHistory(), await tenantWithHistory()];
  await keptCheckpoint(rewritten);
  await keptCheckpoint(truncated);
  await rewriteHistory(rewritten.organizationId, 3);
  await deleteNewestEvent(truncated.organizationId);
  const held = await verify([]);
  t.is(held.code, 1);
  t.regex(held.stdout, new RegExp(`BROKEN organization:${rewritten.organizationId} at position 7: rewritten`));
  t.regex(held.stdout, new RegExp(`BROKEN organization:${truncated.organizationId} at position 7: truncated`));
});

test('a checkpoint altered, or signed by another key, is refused', async (t) => {
  const tenant = await tenantWithHistory();
  const { checkpoint } = await keptCheckpoint(tenant);
  const [header, payload, signature] = checkpoint.signature.split('.');
  const claimed = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
  const altered = `${header}.${Buffer.from(JSON.stringify({ ...claimed, position: 6 })).toString('base64url')}.${signature}`;
  const file = join(directory, `${tenant.organizationId}.forged`);
  await writeFile(file, `${altered}\n`);
  const forged = await verify([tenant.organizationId, '--checkpoint', file]);
  t.is(forged.code, 1);
  t.regex(forged.stdout, /REFUSED checkpoint 1 of .* is not a checkpoint signed by key/);

  const other = ed25519();
  const otherFile = join(directory, 'other.pub.pem');
  await writeFile(otherFile, other.public);
  const wrongKey = await verify([tenant.organizationId, '--checkpoint', join(directory, `${tenant.organizationId}.json`), '--key', otherFile], {});
  t.is(wrongKey.code, 1);
  t.regex(wrongKey.stdout, /REFUSED/);
});

test('checkpoints of every chain that moved are signed periodically, without anyone asking', async (t) => {
  const tenant = await tenantWithHistory();
  const chain = `organization:${tenant.organizationId}`;
  const newest = async () =>
    Number(
      (await service.orm.em.fork().execute<Array<{ position: string | null }>>('select max(position) as position from audit_checkpoints where chain = ?', [chain]))[0]
        ?.position ?? 0,
    );
  const deadline = Date.now() + 15_000;
  while ((await newest()) < 7 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(await newest(), 7);
});

test('only those who may read the audit log get its checkpoint; anyone gets their own chain\'s', async (t) => {
  const tenant = await makeTenant(service);
  for (const reader of [tenant.member, tenant.stranger]) {
    t.is((await as(service, reader).get(`/api/v1/orgs/${tenant.organizationId}/audit-checkpoint`)).status, 403);
  }
  t.is((await as(service, tenant.admin).get(`/api/v1/orgs/${tenant.organizationId}/audit-checkpoint`)).status, 200);
  const own = await as(service, tenant.member).get('/api/v1/auth/me/audit-checkpoint');
  t.is(own.status, 200);
  t.like(await own.json(), { chain: `user:${tenant.member.id}` });
});

test('without AUDIT_CHECKPOINT_KEY: no checkpoint is offered, and verify says plainly what a database writer can do', async (t) => {
  const tenant = await tenantWithHistory(unkeyed);
  const asked = await as(unkeyed, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-checkpoint`);
  t.is(asked.status, 501);
  t.is(asked.headers.get('content-type'), 'application/problem+json');
  const exported = await as(unkeyed, tenant.owner).get(`/api/v1/orgs/${tenant.organizationId}/audit-events/export`);
  t.is(exported.headers.get('audit-checkpoint'), null);
  await exported.text();
  const plain = await verify([tenant.organizationId], {}, unkeyed.database.url);
  t.is(plain.code, 0);
  t.regex(plain.stderr, /Whoever can write the database can rewrite a chain and recompute its hashes, or delete its newest events, and it still verifies/);
  const file = join(directory, 'unkeyed.json');
  await writeFile(file, '{}');
  const asking = await verify([tenant.organizationId, '--checkpoint', file], {}, unkeyed.database.url);
  t.is(asking.code, 2);
  t.regex(asking.stderr, /--checkpoint needs the key/);
});
