import {
  OpenApiGeneratorV31,
  OpenAPIRegistry,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { ValidationFailed, type FieldError } from '../errors.ts';
import type { ServiceAccount } from '../db/entities/index.ts';
import type { AccessTokenClaims } from '../services/access-tokens.ts';
import type { Caller } from '../services/authorization.service.ts';


/**
 * Every route is declared once, here-shaped: its params, query, body and response as zod schemas.
 * The same declaration validates requests, shapes responses (unknown keys are stripped, so an
 * entity field cannot leak) and generates the OpenAPI document, so the contract cannot drift.
 */

/** How a route's errors are written: RFC 9457 problems, or AuthZEN's plain message (see error-handler.ts). */
type ErrorBody = 'problem' | 'message';

type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject;

export interface RouteInput<P, Q, B, A> {
  params: P;
  query: Q;
  body: B;
  /** The verified access token of the caller, on authenticated routes. */
  actor: A;
}

/** Verifies the request's credentials; throws Unauthenticated when they are missing or bad. */
export interface Authenticators {
  user: (ctx: Context) => Promise<AccessTokenClaims>;
  caller: (ctx: Context) => Promise<Caller>;
  service: (ctx: Context) => Promise<ServiceAccount>;
  /** AuthZEN's callers: as `caller`, and a service account key also sent bare (without `Bearer `). */
  pep: (ctx: Context) => Promise<Caller>;
}

export interface RouteSpec<
  P extends AnyObject,
  Q extends AnyObject,
  B extends z.ZodType,
  R extends z.ZodType,
  A = undefined,
> {
  method: HttpMethod;
  /** OpenAPI template, e.g. `/orgs/{org_id}`. */
  path: string;
  summary: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  response: {
    status: number;
    description: string;
    /** JSON body; omit for 204, or for routes that write a non-JSON body themselves. */
    schema?: R;
    contentType?: string;
    /** Another success status the handler may choose with `answerWith` (201 when a PUT creates). */
    alternative?: { status: number; description: string };
    /** The route is a write that answers a `ZedToken` header (set by the handler through withZedToken). */
    zedToken?: boolean;
    /** Other headers the handler sets on success, by name, with what each says (for the document). */
    headers?: Record<string, string>;
  };
  /**
   * The statuses only this route's logic answers (403, 404, 409, ...), for the document. Those
   * every route of its kind can answer are added by `Api`: 400, 413 and 422 with a body, 422 with
   * params or a query, 401 and 503 when authenticated or when it has a body (it reads the stores).
   */
  errors?: number[];
  handler: (ctx: Context, input: RouteInput<z.output<P>, z.output<Q>, z.output<B>, A>) => Promise<z.input<R> | void>;
}

const ZED_TOKEN_HEADER = {
  description:
    'The ZedToken of this write (SpiceDB revision it reached; for a write that changed no relationship, the ' +
    "organization's newest one). Pass it to the check API as {\"at_least_as_fresh\": \"<token>\"} and that check " +
    'is sure to see this write.',
  schema: { type: 'string' as const },
};

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or invalid credentials',
  402: 'Subscription limit reached',
  403: 'Not permitted',
  404: 'Not found',
  409: 'Conflict with the current state',
  410: 'Deleted for good',
  413: 'Body too large',
  422: 'Invalid fields',
  429: 'Too many requests',
  501: 'Not configured on this service',
  503: 'A backing store could not answer',
};

export class Api {
  readonly router = new Router();
  private readonly registry = new OpenAPIRegistry();
  private openApiDocument: string | undefined;

  private readonly authenticators: Authenticators;

  constructor(authenticators: Authenticators) {
    this.authenticators = authenticators;
  }

  /** A route anyone may call. */
  add<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R>,
  ): void {
    this.register(spec, async () => undefined);
  }

  /** A route that needs a valid access token; the handler receives its claims as `actor`. */
  addAuthenticated<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R, AccessTokenClaims>,
  ): void {
    this.register(spec, this.authenticators.user, true);
  }

  /** A route of the authorization API: a service account's key or a user's access token. */
  addForCallers<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R, Caller>,
  ): void {
    this.register(spec, this.authenticators.caller, true);
  }

  /** A route only service accounts may call (token introspection). */
  addForServices<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R, ServiceAccount>,
  ): void {
    this.register(spec, this.authenticators.service, true);
  }

  /**
   * A route of the AuthZEN Authorization API: called as `addForCallers` routes are, answering
   * errors as that spec does (a message string; 400 for any invalid request, never 422).
   */
  addForPeps<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R, Caller>,
  ): void {
    this.register(spec, this.authenticators.pep, true, 'message');
  }

  private register<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType, A>(
    spec: RouteSpec<P, Q, B, R, A>,
    identify: (ctx: Context) => Promise<A>,
    secured = false,
    errorBody: ErrorBody = 'problem',
  ): void {
    if (this.openApiDocument) throw new Error(`${spec.method} ${spec.path} was added after the OpenAPI document was built`);
    this.registry.registerPath({ ...this.describe(spec, secured, errorBody), ...(secured && { security: [{ bearer: [] }] }) });
    const koaPath = spec.path.replace(/\{([a-z_]+)\}/g, ':$1');
    this.router.register(koaPath, [spec.method.toUpperCase()], async (ctx) => {
      ctx.state.route = spec.path;
      // Who before what: a stranger learns nothing from validation messages.
      const actor = await identify(ctx);
      const input = {
        params: parsePart(spec.params, ctx.params, 'params'),
        query: parsePart(spec.query, ctx.query, 'query'),
        body: parsePart(spec.body, ctx.request.body, 'body'),
        actor,
      } as RouteInput<z.output<P>, z.output<Q>, z.output<B>, A>;
      const result = await spec.handler(ctx, input);
      ctx.status = (ctx.state.successStatus as number | undefined) ?? spec.response.status;
      if (spec.response.schema) {
        ctx.body = spec.response.schema.parse(result);
      }
    });
  }

  /**
   * The OpenAPI 3.1 document (JSON) of every route, built on first use: by then every route is
   * added, whichever order the routers were mounted in.
   */
  document(): string {
    this.openApiDocument ??= this.buildDocument();
    return this.openApiDocument;
  }

  private buildDocument(): string {
    this.registry.registerComponent('securitySchemes', 'bearer', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    const document = new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'tenant-authz',
        version: '1',
        description: 'Tenant management and authorization backed by SpiceDB',
      },
    });
    return JSON.stringify(document);
  }

  private describe<A>(spec: RouteSpec<AnyObject, AnyObject, z.ZodType, z.ZodType, A>, secured: boolean, errorBody: ErrorBody): RouteConfig {
    const described = Object.entries(spec.response.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: 'string' as const } }]);
    const headers = { ...(spec.response.zedToken && { ZedToken: ZED_TOKEN_HEADER }), ...Object.fromEntries(described) };
    const responses: RouteConfig['responses'] = {
      [spec.response.status]: {
        description: spec.response.description,
        ...(Object.keys(headers).length > 0 && { headers }),
        ...(spec.response.schema && {
          content: { [spec.response.contentType ?? 'application/json']: { schema: spec.response.schema } },
        }),
      },
    };
    if (spec.response.alternative) {
      responses[spec.response.alternative.status] = {
        description: spec.response.alternative.description,
        ...(Object.keys(headers).length > 0 && { headers }),
        ...(spec.response.schema && { content: { 'application/json': { schema: spec.response.schema } } }),
      };
    }
    for (const status of errorStatuses(spec, secured).filter((status) => errorBody === 'problem' || status !== 422)) {
      responses[status] = {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        content:
          errorBody === 'problem'
            ? { 'application/problem+json': { schema: problemSchema } }
            : { 'text/plain': { schema: z.string().meta({ description: 'An error message (AuthZEN 1.0 error responses)' }) } },
      };
    }
    return {
      method: spec.method,
      path: spec.path,
      summary: spec.summary,
      tags: spec.tags,
      request: {
        ...(spec.params && { params: spec.params }),
        ...(spec.query && { query: spec.query }),
        ...(spec.body && { body: { required: true, content: { 'application/json': { schema: spec.body } } } }),
      },
      responses,
    };
  }
}

/** Answers the route's `alternative` success status instead of its usual one. */
export function answerWith(ctx: Context, status: number): void {
  ctx.state.successStatus = status;
}

/** The statuses a route can answer besides its success, in order: its own and those of its kind. */
function errorStatuses<A>(spec: RouteSpec<AnyObject, AnyObject, z.ZodType, z.ZodType, A>, secured: boolean): number[] {
  const statuses = new Set(spec.errors ?? []);
  if (spec.body) [400, 413, 422].forEach((status) => statuses.add(status));
  if (spec.params || spec.query) statuses.add(422);
  if (secured) statuses.add(401);
  if (secured || spec.body) statuses.add(503);
  return [...statuses].sort((a, b) => a - b);
}

function parsePart(schema: z.ZodType | undefined, value: unknown, part: 'params' | 'query' | 'body'): unknown {
  if (!schema) return {};
  const parsed = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  throw new ValidationFailed(parsed.error.issues.flatMap((issue) => toFieldErrors(part, issue)));
}

function toFieldErrors(part: string, issue: z.core.$ZodIssue): FieldError[] {
  const at = [part, ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'is not an accepted field' }));
  }
  return [{ field: at.join('.'), message: issue.message }];
}
