import type { Context } from 'koa';
import { z } from 'zod';
import type { Keyset, Page } from '../services/pagination.ts';

/** Opaque to clients: base64url of `<ISO time>|<id>`. */
function encodeCursor(keyset: Keyset): string {
  return Buffer.from(`${keyset.createdAt.toISOString()}|${keyset.id}`).toString('base64url');
}

const cursor = z
  .string()
  .max(200)
  .transform((text, ctx): Keyset => {
    const [time = '', id = ''] = Buffer.from(text, 'base64url').toString().split('|');
    const createdAt = new Date(time);
    const year = createdAt.getUTCFullYear();
    if (Number.isNaN(createdAt.getTime()) || year < 1970 || year > 9999 || !z.uuid().safeParse(id).success) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API issued' });
      return z.NEVER;
    }
    return { createdAt, id };
  });

/** `limit` (1-200, default 50) and `cursor`, for every list endpoint. */
export const pageQuery = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 200' })
    .int({ error: 'must be a whole number from 1 to 200' })
    .min(1, { error: 'must be a whole number from 1 to 200' })
    .max(200, { error: 'must be a whole number from 1 to 200' })
    .default(50),
  cursor: cursor.optional(),
});

export type PageQuery = z.output<typeof pageQuery>;

export function pageRequest(query: PageQuery) {
  return { limit: query.limit, after: query.cursor };
}

/**
 * The next page's URL goes in a Link header, so the body stays a plain array. `filters` are the
 * query's filters, kept in the link so the next page answers the same question.
 */
export function linkNextPage<T>(ctx: Context, page: Page<T>, limit: number, filters: Record<string, string | undefined> = {}): T[] {
  if (page.next) {
    const kept = Object.entries(filters).filter((filter): filter is [string, string] => filter[1] !== undefined);
    const next = new URLSearchParams([...kept, ['limit', String(limit)], ['cursor', encodeCursor(page.next)]]);
    ctx.set('Link', `<${ctx.path}?${next.toString()}>; rel="next"`);
  }
  return page.items;
}
