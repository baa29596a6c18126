/**
 * The service as src/main.ts starts it, except that the audit log writes no outward event beside
 * its own: the baseline of scenario (l), which measures what the event write adds to a change.
 * Everything else (the same code, configuration, database and SpiceDB) is the real service's.
 * Only this bench script can turn events off; no environment variable can.
 */
import { appendAuditEvents } from '../../src/audit/audit-log.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startService } from '../../src/service.ts';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const service = await startService(config, logger, {
  appendAudit: (em, organizationId, entries) => appendAuditEvents(em, organizationId, entries, { events: false }),
});
logger.warn('events OFF: bench baseline only (scripts/bench/service-without-events.ts)');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
