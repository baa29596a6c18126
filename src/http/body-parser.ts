import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { MalformedRequest, PayloadTooLarge } from '../errors.js';

/** JSON bodies only, bounded in size; parse failures become problem documents, not Koa's text errors. */
export function jsonBody(limitBytes: number): Middleware {
  return bodyParser({
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
      throw new MalformedRequest('The body is not valid JSON', { cause: error });
    },
  });
}
