import { NotFoundError, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Middleware } from 'koa';
import { AppError, Conflict, NotFound, ValidationFailed } from '../errors.js';
import type { Logger } from '../observability/logger.js';

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
      ctx.status = status;
      ctx.set(error?.headers ?? {});
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

function toAppError(thrown: unknown): AppError | undefined {
  if (thrown instanceof AppError) return thrown;
  if (thrown instanceof UniqueConstraintViolationException) {
    return new Conflict('A record with the same unique fields already exists', { cause: thrown });
  }
  if (thrown instanceof NotFoundError) return new NotFound('Not found', { cause: thrown });
  return undefined;
}
