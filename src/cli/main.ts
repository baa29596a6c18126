import { parseArgs } from 'node:util';
import { parseChainKey, organizationChain, type AuditChainRef } from '../audit/audit-log.ts';
import { pruneAuditEvents, retentionCutoff } from '../audit/audit-retention.ts';
import { verifyAuditChains } from '../audit/audit-verify.ts';
import { reconcile } from '../authz/reconcile.ts';
import { tupleKey } from '../authz/relationships.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { ServiceAccountService } from '../services/service-account.service.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { openStores, type Stores } from '../stores.ts';
import { withMaskedPassword } from '../db/postgres.ts';
import { WEBHOOK_USAGE, webhookCommand } from './webhook-command.ts';

/**
 * Operator commands, against the database and SpiceDB the environment names:
 *   reconcile [--fix]                                   compare Postgres with SpiceDB; --fix repairs the drift
 *   service-account create NAME [--write TYPE,TYPE] [--trusted] [--org ID]...
 *                                                       prints the new secret key once, on its own line
 *   service-account list
 *   service-account revoke ID
 *   audit verify [ORG_ID | TYPE:ID]                     recompute the audit hash chains; exit 1 at a broken link
 *   audit prune                                         delete events past AUDIT_RETENTION_DAYS, anchoring each chain
 *   webhook create|list|rotate-secret|enable|disable|delete   webhook endpoints (webhook-command.ts)
 */

const USAGE = `usage: npm run cli -- reconcile [--fix]
       npm run cli -- service-account create NAME [--write chatbot,knowledge_base] [--trusted] [--org ORG_ID]...
       npm run cli -- service-account list
       npm run cli -- service-account revoke ID
       npm run cli -- audit verify [ORG_ID | user:USER_ID | service_account:ID]
       npm run cli -- audit prune
${WEBHOOK_USAGE}`;

async function withStores<T>(config: Config, run: (stores: Stores) => Promise<T>): Promise<T> {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const stores = await openStores(config, logger, new Metrics());
  // On stderr, so a command's own output (a new key) stays alone on stdout.
  console.error(`Database: ${withMaskedPassword(stores.databaseUrl)} (${stores.databaseSource})`);
  try {
    return await run(stores);
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
  const drift = await withStores(config, ({ orm, spicedb }) => reconcile(orm, spicedb, { fix: values.fix }));
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
      org: { type: 'string', multiple: true },
    },
  });
  const [action, argument] = positionals;
  return withStores(config, async ({ orm }) => {
    const accounts = ServiceAccountService.forAdministration(orm);
    if (action === 'create' && argument) {
      const writable = values.write.split(',').map((type) => type.trim()).filter(Boolean);
      const { account, key } = await accounts.create(argument, writable, {
        trusted: values.trusted,
        ...(values.org && { organizationIds: values.org }),
      });
      console.error(
        `Created service account ${account.name} (${account.id}); it may write: ${account.writableTypes.join(', ') || 'nothing'}` +
          `${account.trusted ? ', also without naming a user (trusted)' : ''}` +
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
          `${account.id}  ${account.name}  writes=${account.writableTypes.join(',') || '-'}  trusted=${account.trusted}  orgs=${scope}  ${state}`,
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

async function auditCommand(config: Config, args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [action, chain] = positionals;
  if (action === 'verify' && positionals.length <= 2) return auditVerify(config, chain === undefined ? undefined : chainArgument(chain));
  if (action === 'prune' && positionals.length === 1) return auditPrune(config);
  console.error(USAGE);
  return 2;
}

/** A bare id is an organization's; `user:<id>` and `service_account:<id>` name the chains outside organizations. */
function chainArgument(argument: string): AuditChainRef {
  return argument.includes(':') ? parseChainKey(argument) : organizationChain(argument);
}

async function auditVerify(config: Config, chain: AuditChainRef | undefined): Promise<number> {
  const reports = await withStores(config, ({ orm }) => verifyAuditChains(orm, chain));
  let broken = 0;
  for (const report of reports) {
    if (report.broken) {
      broken += 1;
      const { position, eventId, reason } = report.broken;
      console.log(`BROKEN ${report.chain} at position ${position}${eventId ? ` (event ${eventId})` : ''}: ${reason}`);
    } else {
      console.log(`ok     ${report.chain} ${report.events} events`);
    }
  }
  console.log(broken === 0 ? `${reports.length} chains verified` : `${broken} of ${reports.length} chains broken`);
  return broken === 0 ? 0 : 1;
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

const COMMANDS: Record<string, (config: Config, args: string[]) => Promise<number>> = {
  reconcile: reconcileCommand,
  'service-account': serviceAccountCommand,
  audit: auditCommand,
  webhook: webhooks,
};

const [name = '', ...args] = process.argv.slice(2);
const command = COMMANDS[name];
if (!command) {
  console.error(USAGE);
  process.exit(2);
}
try {
  process.exit(await command(loadConfig(), args));
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof AppError ? error.message : error);
  process.exit(error instanceof ConfigError ? 78 : 1);
}
