/**
 * The domain's error hierarchy. Services and the authz module throw these; one HTTP middleware
 * (src/http/error-handler.ts) turns them into RFC 9457 problem documents. Nothing here knows Koa.
 */

export interface FieldError {
  /** Where the problem is: `body.email`, `params.org_id`, `query.limit`. */
  field: string;
  message: string;
}

export abstract class AppError extends Error {
  /** Stable, machine-readable; becomes the problem `type`. */
  abstract readonly code: string;
  abstract readonly status: number;
  abstract readonly title: string;
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string> = {};

  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = new.target.name;
  }
}

export class MalformedRequest extends AppError {
  readonly code = 'malformed-request';
  readonly status = 400;
  readonly title = 'Malformed request';
}

export class BadRequest extends AppError {
  readonly code = 'bad-request';
  readonly status = 400;
  readonly title = 'Request not allowed in this state';
}

export class Unauthenticated extends AppError {
  readonly code = 'unauthenticated';
  readonly status = 401;
  readonly title = 'Authentication required';
  override readonly headers = { 'WWW-Authenticate': 'Bearer' };
}

export class PaymentRequired extends AppError {
  readonly code = 'plan-limit-reached';
  readonly status = 402;
  readonly title = 'Subscription limit reached';
}

export class Forbidden extends AppError {
  readonly code = 'forbidden';
  readonly status = 403;
  readonly title = 'Forbidden';
}

export class NotFound extends AppError {
  readonly code = 'not-found';
  readonly status = 404;
  readonly title = 'Not found';
}

export class MethodNotAllowed extends AppError {
  readonly code = 'method-not-allowed';
  readonly status = 405;
  readonly title = 'Method not allowed';
}

export class Conflict extends AppError {
  readonly code = 'conflict';
  readonly status = 409;
  readonly title = 'Conflict';
}

/** What the request names existed once and is deleted for good (an events cursor past retention). */
export class Gone extends AppError {
  readonly code = 'gone';
  readonly status = 410;
  readonly title = 'Gone';
}

export class PayloadTooLarge extends AppError {
  readonly code = 'payload-too-large';
  readonly status = 413;
  readonly title = 'Payload too large';
}

export class NotImplemented extends AppError {
  readonly code = 'not-implemented';
  readonly status = 501;
  readonly title = 'Not implemented';
}

export class ValidationFailed extends AppError {
  readonly code = 'validation-failed';
  readonly status = 422;
  readonly title = 'Validation failed';

  readonly errors: FieldError[];

  constructor(
    errors: FieldError[],
    detail = 'The request has invalid fields',
  ) {
    super(detail);
    this.errors = errors;
  }
}

export class TooManyRequests extends AppError {
  readonly code = 'too-many-requests';
  readonly status = 429;
  readonly title = 'Too many requests';
  override readonly headers: Record<string, string>;

  constructor(detail: string, retryAfterSeconds: number) {
    super(detail);
    this.headers = { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) };
  }
}

export class Unavailable extends AppError {
  readonly code: string = 'unavailable';
  readonly status = 503;
  readonly title: string = 'Service unavailable';
}

/**
 * Postgres could not be reached or gave no connection (down, restarting, out of connections, the
 * pool's wait ran out): nothing was decided or changed, and trying again shortly may succeed.
 */
export class DatabaseUnavailable extends Unavailable {
  override readonly headers = { 'Retry-After': '2' };

  constructor(options?: ErrorOptions) {
    super('The database did not answer; nothing was changed, try again after Retry-After seconds', options);
  }
}

/**
 * SpiceDB stopped at its maximum depth: the relationships a request follows nest deeper than the
 * server walks. The server's limit, not the caller's fault; unlike an outage, retrying does not
 * lift it. Fails closed like any other answer SpiceDB could not give.
 */
export class GraphTooDeep extends Unavailable {
  override readonly code = 'graph-too-deep';
  override readonly title = 'Authorization graph too deep';
}

/** Busy (a bounded queue is full): retry shortly. Never a timeout. */
export class Overloaded extends AppError {
  readonly code = 'overloaded';
  readonly status = 503;
  readonly title = 'Service busy';
  override readonly headers: Record<string, string>;

  constructor(detail: string, retryAfterSeconds: number) {
    super(detail);
    this.headers = { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) };
  }
}
