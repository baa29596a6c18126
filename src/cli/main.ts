import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { checkpointSignaturesIn, CheckpointVerifier } from '../audit/audit-checkpoint.ts';
import { OPERATOR, parseChainKey, organizationChain, type AuditChainRef } from '../audit/audit-log.ts';
import { pruneAuditEvents, retentionCutoff } from '../audit/audit-retention.ts';
import { verifyAuditLog } from '../audit/audit-verify.ts';
import { reconcile } from '../authz/reconcile.ts';
import { tupleKey } from '../authz/relationships.ts';
import { composeApplication } from '../composition.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { SUBSCRIPTION_TIERS, type SubscriptionTier } from '../db/entities/index.ts';
import { AppError } from '../errors.ts';
import { ServiceAccountService } from '../services/service-account.service.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { openStores, type Stores } from '../stores.ts';
import { withMaskedPassword } from '../db/postgres.ts';
import { RelationshipFileError } from '../authz/relationship-files.ts';
import { RELATIONSHIPS_USAGE, relationshipsCommand } from './relationships-command.ts';
import { WEBHOOK_USAGE, webhookCommand } from './webhook-command.ts';

/**
 * Operator commands, against the database and SpiceDB the environment names:
 *   reconcile [--fix]                                   compare Postgres with SpiceDB; --fix repairs the drift
 *   service-account create NAME [--write TYPE,TYPE] [--module NAME]... [--trusted] [--sets-tiers] [--org ID]...
 *                                                       prints the new secret key once, on its own line
 *   service-account list
 *   service-account revoke ID
 *   member add ORG_ID USER_ID [--role member|admin]     adds a member at once, without asking them (support, backfills)
 *   org set-tier ORG_ID TIER                            set an organization's plan (audited, by the operator)
 *   audit verify [ORG_ID | TYPE:ID] [--checkpoint FILE]... [--key FILE]
 *                                                       recompute the audit hash chains and hold them to their signed
 *                                                       checkpoints; exit 1 at a broken link, a rewrite or a truncation
 *   audit prune                                         delete events past AUDIT_RETENTION_DAYS, anchoring each chain
 *   webhook create|list|rotate-secret|enable|disable|delete   webhook endpoints (webhook-command.ts)
 *   relationships import|export MODULE                   a policy module's relationships in bulk (relationships-command.ts)
 */

const USAGE = `usage: npm run cli -- --help
       npm run cli -- reconcile [--fix]
       npm run cli -- service-account create NAME [--write chatbot,knowledge_base] [--module MODULE]... [--trusted] [--sets-tiers] [--org ORG_ID]...
       npm run cli -- service-account list
       npm run cli -- service-account revoke ID
       npm run cli -- member add ORG_ID USER_ID [--role member|admin]
       npm run cli -- org set-tier ORG_ID ${SUBSCRIPTION_TIERS.join('|')}
       npm run cli -- audit verify [ORG_ID | user:USER_ID | service_account:ID] [--checkpoint FILE]... [--key PUBLIC_KEY_FILE]
       npm run cli -- audit prune
${WEBHOOK_USAGE}
${RELATIONSHIPS_USAGE}`;

async function withStores<T>(config: Config, run: (stores: Stores & { logger: Logger; metrics: Metrics }) => Promise<T>): Promise<T> {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const metrics = new Metrics();
  const stores = await openStores(config, logger, metrics);
  // On stderr, so a command's own output (a new key) stays alone on stdout.
  console.error(`Database: ${withMaskedPassword(stores.databaseUrl)} (${stores.databaseSource})`);
  try {
    return await run({ ...stores, logger, metrics });
  } finally {
    await stores.close();
  }
}

async function reconcileCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { fix: { type: 'boolean', default: false } } });
  if (config.spicedb.mode === 'embedded') {
    console.error('reconcile needs SPICEDB_ENDPOINT: an embedded SpiceDB is rebuilt from Postgres at every boot, so it cannot drift');
    return 2;
  }
  const drift = await withStores(config, ({ orm, spicedb, policy }) =>
    reconcile(orm, spicedb, { fix: values.fix, moduleTypes: policy.modules.flatMap((module) => module.types) }),
  );
  for (const tuple of drift.missing) console.log(`missing ${tupleKey(tuple)}`);
  for (const tuple of drift.extra) console.log(`extra   ${tupleKey(tuple)}`);
  const total = drift.missing.length + drift.extra.length;
  console.log(
    total === 0
      ? 'no drift: SpiceDB matches Postgres'
      : `${drift.missing.length} missing, ${drift.extra.length} extra${values.fix ? ': repaired' : ' (run with --fix to repair)'}`,
  );
  return total === 0 || values.fix ? 0 : 1;
}

async function serviceAccountCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      write: { type: 'string', default: '' },
      trusted: { type: 'boolean', default: false },
      'sets-tiers': { type: 'boolean', default: false },
      org: { type: 'string', multiple: true },
      module: { type: 'string', multiple: true },
    },
  });
  const [action, argument] = positionals;
  return withStores(config, async ({ orm, policy }) => {
    const accounts = ServiceAccountService.forAdministration(orm, policy);
    if (action === 'create' && argument) {
      const writable = values.write.split(',').map((type) => type.trim()).filter(Boolean);
      const { account, key } = await accounts.create(argument, writable, {
        trusted: values.trusted,
        setsSubscriptionTiers: values['sets-tiers'],
        ...(values.org && { organizationIds: values.org }),
        ...(values.module && { modules: values.module }),
      });
      console.error(
        `Created service account ${account.name} (${account.id}); it may write: ${account.writableTypes.join(', ') || 'nothing'}` +
          `${account.modules.length > 0 ? `; the relationships of policy modules ${account.modules.join(', ')}` : ''}` +
          `${account.trusted ? ', also without naming a user (trusted)' : ''}` +
          `${account.setsSubscriptionTiers ? '; it may set subscription tiers' : ''}` +
          `${account.organizationIds ? `; only in organizations ${account.organizationIds.join(', ')}` : ''}.`,
      );
      console.error('Its key follows; it is shown only now:');
      console.log(key);
      return 0;
    }
    if (action === 'list') {
      for (const account of await accounts.list()) {
        const state = account.revokedAt ? `revoked ${account.revokedAt.toISOString()}` : 'active';
        const scope = account.organizationIds ? account.organizationIds.join(',') : 'all';
        console.log(
          `${account.id}  ${account.name}  writes=${account.writableTypes.join(',') || '-'}  modules=${account.modules.join(',') || '-'}  trusted=${account.trusted}  ` +
            `sets_tiers=${account.setsSubscriptionTiers}  orgs=${scope}  ${state}`,
        );
      }
      return 0;
    }
    if (action === 'revoke' && argument) {
      const account = await accounts.revoke(argument);
      console.log(`Revoked ${account.name} (${account.id})`);
      return 0;
    }
    console.error(USAGE);
    return 2;
  });
}

const memberArguments = z.tuple([z.literal('add'), z.uuid(), z.uuid()]);
const assignableRole = z.enum(['member', 'admin']);

/**
 * The operator adds a member directly, as a trusted service account can over HTTP: through the
 * same service and unit of work as the API (plan limit, default workspace, audit event by
 * `system:operator`, tuples delivered before it returns).
 */
async function memberCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { role: { type: 'string', default: 'member' } } });
  const parsed = memberArguments.safeParse(positionals);
  const role = assignableRole.safeParse(values.role);
  if (!parsed.success || !role.success) {
    console.error(USAGE);
    return 2;
  }
  if (config.spicedb.mode === 'embedded') {
    console.error(
      "member add needs SPICEDB_ENDPOINT: an embedded SpiceDB lives inside the running service, which would not see this grant until it restarts. Use a --trusted service account's key with POST /api/v1/orgs/ORG_ID/members instead",
    );
    return 2;
  }
  const [, organizationId, userId] = parsed.data;
  return withStores(config, async (stores) => {
    const { services } = await composeApplication({ config, ...stores });
    const { result } = await services.members.add(OPERATOR, organizationId, userId, role.data);
    console.log(`Added ${result.user.username} (${result.user.id}) to organization ${organizationId} as ${result.role}`);
    return 0;
  });
}

/** The plan is the operator's (or a billing system's) to set, never the organization's: `org set-tier`. */
async function organizationCommand(config: Config, args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [action, organizationId, tier] = positionals;
  if (action !== 'set-tier' || !organizationId || !isSubscriptionTier(tier) || positionals.length !== 3) {
    console.error(USAGE);
    return 2;
  }
  const { result } = await withStores(config, async (stores) => {
    const { services } = await composeApplication({ config, ...stores });
    return services.subscriptionTiers.setByOperator(organizationId, tier);
  });
  console.log(`${result.organization.id}: ${result.previous} -> ${result.organization.subscriptionTier}`);
  return 0;
}

function isSubscriptionTier(text: string | undefined): text is SubscriptionTier {
  return SUBSCRIPTION_TIERS.some((tier) => tier === text);
}

async function auditCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { checkpoint: { type: 'string', multiple: true, default: [] }, key: { type: 'string' } },
  });
  const [action, chain] = positionals;
  if (action === 'verify' && positionals.length <= 2) {
    return auditVerify(config, chain === undefined ? undefined : chainArgument(chain), values.checkpoint, values.key);
  }
  if (action === 'prune' && positionals.length === 1) return auditPrune(config);
  console.error(USAGE);
  return 2;
}

/** A bare id is an organization's; `user:<id>` and `service_account:<id>` name the chains outside organizations. */
function chainArgument(argument: string): AuditChainRef {
  return argument.includes(':') ? parseChainKey(argument) : organizationChain(argument);
}

/** A command line that cannot be followed: one line, exit code 2. */
class UsageError extends Error {}

function readArgument(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const UNCHECKPOINTED =
  'No checkpoint key (AUDIT_CHECKPOINT_KEY, or --key FILE): each chain is checked against itself only. Whoever can write ' +
  'the database can rewrite a chain and recompute its hashes, or delete its newest events, and it still verifies.';

async function auditVerify(config: Config, chain: AuditChainRef | undefined, checkpointFiles: string[], keyFile: string | undefined): Promise<number> {
  const keyText = keyFile === undefined ? config.audit.checkpointKey : readArgument('--key', keyFile);
  const verifier = keyText === undefined ? undefined : await CheckpointVerifier.load(keyText).catch((error: unknown) => {
    throw new UsageError(`--key: not an Ed25519 key (${error instanceof Error ? error.message : String(error)})`);
  });
  if (!verifier && checkpointFiles.length > 0) {
    console.error('--checkpoint needs the key that signed the checkpoints: --key FILE (its public half will do) or AUDIT_CHECKPOINT_KEY');
    return 2;
  }
  if (!verifier) console.error(UNCHECKPOINTED);
  const outside = checkpointFiles.flatMap((file) =>
    checkpointSignaturesIn(readArgument('--checkpoint', file)).map((signature, index) => ({ label: `checkpoint ${index + 1} of ${file}`, signature })),
  );
  const { reports, refused } = await withStores(config, ({ orm }) => verifyAuditLog(orm, { chain, verifier, outside }));
  for (const line of refused) console.log(`REFUSED ${line}`);
  let broken = 0;
  for (const report of reports) {
    const held = `${report.checkpoints} checkpoint${report.checkpoints === 1 ? '' : 's'}${report.pruned ? ` (${report.pruned} more before its anchor, pruned)` : ''}`;
    if (report.broken) {
      broken += 1;
      const { position, eventId, reason } = report.broken;
      console.log(`BROKEN ${report.chain} at position ${position}${eventId ? ` (event ${eventId})` : ''}: ${reason}`);
    } else {
      console.log(`ok     ${report.chain} ${report.events} events${verifier ? `, held to ${held}` : ''}`);
    }
  }
  console.log(broken === 0 ? `${reports.length} chains verified` : `${broken} of ${reports.length} chains broken`);
  return broken === 0 && refused.length === 0 ? 0 : 1;
}

async function auditPrune(config: Config): Promise<number> {
  const days = config.audit.retentionDays;
  if (days === null) {
    console.log('AUDIT_RETENTION_DAYS is unset: audit events are kept forever, nothing pruned');
    return 0;
  }
  const cutoff = retentionCutoff(days);
  const pruned = await withStores(config, ({ orm }) => pruneAuditEvents(orm, cutoff));
  for (const chain of pruned) console.log(`pruned ${chain.chain}: ${chain.deleted} events, anchored at position ${chain.anchoredAt}`);
  console.log(`${pruned.length} chains pruned of events before ${cutoff.toISOString()}`);
  return 0;
}

async function webhooks(config: Config, args: string[]): Promise<number> {
  const code = await webhookCommand(config, args, (run) => withStores(config, ({ orm }) => run(orm)));
  if (code !== null) return code;
  console.error(USAGE);
  return 2;
}

async function relationships(config: Config, args: string[]): Promise<number> {
  const code = await relationshipsCommand(args, (run) =>
    withStores(config, async (stores) => {
      const { services } = await composeApplication({ config, ...stores });
      return run(stores, services.moduleRelationships);
    }),
  );
  if (code !== null) return code;
  console.error(USAGE);
  return 2;
}

const COMMANDS: Record<string, (config: Config, args: string[]) => Promise<number>> = {
  reconcile: reconcileCommand,
  'service-account': serviceAccountCommand,
  member: memberCommand,
  org: organizationCommand,
  audit: auditCommand,
  webhook: webhooks,
  relationships,
};

const [name = '', ...args] = process.argv.slice(2);
if (['--help', '-h', 'help'].includes(name)) {
  console.log(USAGE);
  process.exit(0);
}
const command = COMMANDS[name];
if (!command) {
  console.error(USAGE);
  process.exit(2);
}
try {
  process.exit(await command(loadConfig(), args));
} catch (error) {
  const explained = error instanceof ConfigError || error instanceof AppError || error instanceof UsageError || error instanceof RelationshipFileError;
  console.error(explained ? error.message : error);
  process.exit(error instanceof ConfigError ? 78 : error instanceof UsageError ? 2 : 1);
}
