import type { TestFn } from 'ava';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startService, type RunningService } from '../../src/service.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface TestService extends RunningService {
  database: TestDatabase;
  /** The configuration the service runs with (factories build their services from it). */
  config: Config;
  /** fetch() against the service: `await service.request('/readyz')`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** JSON request helper: serializes `body` and sets the content type. */
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/**
 * The real service on an ephemeral port, on its own fresh database, with the SpiceDB that the
 * environment selects (embedded unless SPICEDB_ENDPOINT is set, as in production).
 */
export async function startTestService(
  options: {
    environment?: NodeJS.ProcessEnv;
    database?: TestDatabase;
    /** Receives every log line the service writes (set LOG_LEVEL in `environment` to see them). */
    logLines?: string[];
  } = {},
): Promise<TestService> {
  const ownsDatabase = !options.database;
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    // Cheap hashes keep the suite fast; test/services/password-hasher.test.ts covers the real cost.
    PASSWORD_HASH_COST: '10',
    // Tests run in parallel within a file, all from 127.0.0.1; test/routes/login-flood.test.ts
    // covers these bounds, test/routes/login-throttle.test.ts the signup limit.
    PASSWORD_HASH_QUEUE: '1000',
    PASSWORD_HASH_PER_ACCOUNT: '1000',
    PASSWORD_HASH_PER_ADDRESS: '1000',
    SIGNUP_MAX_PER_ADDRESS: '100000',
    // test/routes/password-reset.test.ts covers the account-mail throttle.
    ACCOUNT_MAIL_MAX_PER_ADDRESS: '100000',
    // Revocations of service-account keys take effect at once.
    SERVICE_ACCOUNT_CACHE_SECONDS: '0',
    // Parallel test files share two cores and one SpiceDB: a check can wait past the 2 s
    // production deadline there. The fault tests set their own, short, deadlines.
    SPICEDB_TIMEOUT_MS: '10000',
    // The suite bounds its own connections (scripts/test.ts says how): a second run beside this one
    // on the same Postgres must not spend the server's max_connections.
    DATABASE_POOL_MAX: '6',
    ...options.environment,
  });
  const dropOwnDatabase = () => (ownsDatabase ? database.drop() : Promise.resolve());
  const destination = options.logLines && { write: (line: string) => void options.logLines?.push(line) };
  const service = await startService(config, createLogger(config.logLevel, destination)).catch(async (error: unknown) => {
    await dropOwnDatabase();
    throw error;
  });
  const request = (path: string, init?: RequestInit) => fetch(`${service.url}${path}`, init);
  return {
    ...service,
    database,
    config,
    request,
    send: (method, path, body, headers = {}) =>
      request(path, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
    async stop() {
      await service.stop();
      await dropOwnDatabase();
    },
  };
}

type TestServiceOptions = Parameters<typeof startTestService>[0];

/**
 * One service for a test file, started before its tests and stopped after them:
 * `const service = useTestService(test)`, then `service.send(...)` inside any test.
 * `options` may be a function, for settings that need work first (a proxy, a database). Call it
 * before the file's other hooks.
 */
export function useTestService(test: TestFn, options: TestServiceOptions | (() => Promise<TestServiceOptions>) = {}): TestService {
  let running: TestService | undefined;
  // Serial: the file's own before() hooks (which may seed through the service) wait for it.
  test.serial.before(async () => {
    running = await startTestService(typeof options === 'function' ? await options() : options);
  });
  test.after.always(async () => {
    await running?.stop();
  });
  return new Proxy({} as TestService, {
    get(_target, property) {
      if (!running) throw new Error('The test service is used before test.before() started it, or it failed to start');
      const value: unknown = Reflect.get(running, property);
      return typeof value === 'function' ? value.bind(running) : value;
    },
  });
}
