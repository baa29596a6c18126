import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout. Secrets are redacted by path in case a caller ever logs a body. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'tenant-authz' },
    redact: {
      paths: ['password', '*.password', 'refresh_token', '*.refresh_token', 'authorization', '*.authorization'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
