import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { MalformedRequest, PayloadTooLarge, ValidationFailed } from '../errors.ts';

/** No request body of this API nests deeper than a few levels; far deeper is an attack, not data. */
const MAX_DEPTH = 32;

/** Nesting depth of a parsed JSON value, computed without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The parser refuses `__proto__` (and `constructor.prototype`) keys, which could poison
 * prototypes. Such a body is valid JSON with a field no route accepts: where is it?
 */
function prototypeKeyIn(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const stack: Array<[unknown, string]> = [[parsed, 'body']];
  while (stack.length > 0) {
    const [value, at] = stack.pop() as [unknown, string];
    if (value === null || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (key === '__proto__' || (key === 'constructor' && child !== null && typeof child === 'object' && 'prototype' in child)) {
        return `${at}.${key}`;
      }
      stack.push([child, `${at}.${key}`]);
    }
  }
  return undefined;
}

/** JSON bodies only, bounded in size and depth; failures become problem documents, not Koa's text errors. */
export function jsonBody(limitBytes: number): Middleware {
  const parse = bodyParser({
    enableTypes: ['json'],
    // DELETE /authz/relationships carries the relationships to remove.
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    jsonLimit: limitBytes,
    jsonStrict: true,
    onError(error) {
      // raw-body and co-body tag their errors with a stable `type`.
      const type = (error as { type?: string }).type;
      if (type === 'entity.too.large') {
        throw new PayloadTooLarge(`The body exceeds the limit of ${limitBytes} bytes`, { cause: error });
      }
      const poisoned = prototypeKeyIn((error as { body?: unknown }).body);
      if (poisoned) throw new ValidationFailed([{ field: poisoned, message: 'is not an accepted field' }]);
      throw new MalformedRequest('The body is not valid JSON', { cause: error });
    },
  });
  return async (ctx, next) => {
    await parse(ctx, async () => {
      if (depthOf(ctx.request.body) > MAX_DEPTH) {
        throw new MalformedRequest(`The body nests deeper than ${MAX_DEPTH} levels`);
      }
      await next();
    });
  };
}
