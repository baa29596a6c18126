import { ConnectionException, DriverException, NotFoundError, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Middleware } from 'koa';
import { AppError, Conflict, DatabaseUnavailable, NotFound, ValidationFailed } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * The outermost error boundary: every failure leaves as an RFC 9457 problem document. Known
 * errors map by class, never by message text; anything else is a logged 500 whose body says
 * only which request to look up.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      const error = toAppError(thrown);
      const requestId = String(ctx.state.requestId ?? '');
      if (!error) {
        logger.error({ err: thrown, requestId, method: ctx.method, path: ctx.path }, 'unhandled error');
      } else if (error.status >= 500) {
        logger.warn({ err: thrown, requestId, code: error.code }, error.message);
      }
      const status = error?.status ?? 500;
      ctx.set(error?.headers ?? {});
      if (SPEAKS_AUTHZEN.test(ctx.path)) {
        // AuthZEN 1.0 answers an error message string, and 400 for any request it cannot take.
        ctx.status = status === 422 ? 400 : status;
        ctx.type = 'text/plain';
        ctx.body = error ? messageOf(error) : `Internal error; request id ${requestId}`;
        return;
      }
      ctx.status = status;
      ctx.body = {
        type: `urn:tenant-authz:problem:${error?.code ?? 'internal-error'}`,
        title: error?.title ?? 'Internal server error',
        status,
        detail: error?.message ?? 'The request failed unexpectedly; quote the request id when reporting it',
        instance: ctx.path,
        request_id: requestId,
        ...(error instanceof ValidationFailed && { errors: error.errors }),
      };
      ctx.type = 'application/problem+json';
    }
  };
}

/** The AuthZEN Authorization API's paths (src/routes/authzen): their errors follow that spec, not RFC 9457. */
const SPEAKS_AUTHZEN = /^\/(access\/v1\/|\.well-known\/authzen-configuration(\/|$))/;

function messageOf(error: AppError): string {
  if (!(error instanceof ValidationFailed) || error.errors.length === 0) return error.message;
  return `${error.message}: ${error.errors.map(({ field, message }) => `${field} ${message}`).join('; ')}`;
}

function toAppError(thrown: unknown): AppError | undefined {
  if (thrown instanceof AppError) return thrown;
  if (thrown instanceof ConnectionException || isUnreachablePostgres(thrown)) {
    return new DatabaseUnavailable({ cause: thrown });
  }
  // SQLSTATE class 22 (data exception): a value the schema checks let through and Postgres refused.
  if (thrown instanceof DriverException && thrown.code?.startsWith('22')) {
    return new ValidationFailed([], 'A value in the request cannot be stored');
  }
  if (thrown instanceof UniqueConstraintViolationException) {
    return new Conflict('A record with the same unique fields already exists', { cause: thrown });
  }
  if (thrown instanceof NotFoundError) return new NotFound('Not found', { cause: thrown });
  return undefined;
}

/**
 * What pg reports, as plain Errors with neither a code nor a class of their own (MikroORM passes
 * them through unconverted), when no connection can be had: pg-pool's acquisition timeout (no free
 * connection, or none opened, within connectionTimeoutMillis) and a pooled connection that the
 * network dropped under a query. Their fixed texts are the only thing that identifies them.
 */
const PG_CONNECTION_LOST = new Set([
  'timeout exceeded when trying to connect',
  'Connection terminated unexpectedly',
  'Connection terminated',
]);

/**
 * Postgres out of reach, as the pool reports it: SQLSTATE class 08 (connection exception), class
 * 53 (insufficient resources: 53300 "too many clients", out of memory or disk), 57P01-57P03
 * (server shutting down or starting), or one of pg's code-less connection errors.
 */
function isUnreachablePostgres(thrown: unknown): boolean {
  if (thrown instanceof Error && thrown.constructor === Error && PG_CONNECTION_LOST.has(thrown.message)) return true;
  const { code } = (thrown ?? {}) as { code?: unknown };
  return typeof code === 'string' && (/^(08|53)/.test(code) || /^57P0[123]$/.test(code) || code === 'ECONNREFUSED');
}
