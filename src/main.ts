import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './observability/logger.ts';
import { startService } from './service.ts';

/**
 * A configuration this machine cannot honour (a bad variable, or an embedded PostgreSQL it cannot
 * run) ends the process with one line saying why: EX_CONFIG, not a stack trace.
 */
function exitOnConfigError(error: unknown): void {
  if (!(error instanceof ConfigError)) return;
  process.stderr.write(`${error.message}\n`);
  process.exit(78); // EX_CONFIG
}

let config;
try {
  config = loadConfig();
} catch (error) {
  exitOnConfigError(error);
  throw error;
}

const logger = createLogger(config.logLevel);
const service = await startService(config, logger).catch((error: unknown) => {
  exitOnConfigError(error);
  logger.fatal({ err: error }, 'boot failed');
  process.exit(1);
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const startedAt = performance.now();
    service.stop().then(
      () => {
        logger.info({ ms: Math.round(performance.now() - startedAt) }, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
