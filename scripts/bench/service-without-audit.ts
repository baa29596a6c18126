/**
 * The service as src/main.ts starts it, except that the tenant unit of work appends no audit
 * event: the baseline of scenario (i), which measures what the audit write adds to an access
 * change. Everything else (the same code, configuration, database and SpiceDB) is the real
 * service's. Only this bench script can turn the audit log off; no environment variable can.
 */
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startService } from '../../src/service.ts';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const service = await startService(config, logger, { appendAudit: async () => [] });
logger.warn('audit log OFF: bench baseline only (scripts/bench/service-without-audit.ts)');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
