import type { Context } from 'koa';
import { z } from 'zod';
import { ValidationFailed } from '../errors.ts';
import type { Keyset, Page, PageRequest } from '../services/pagination.ts';
import { sealsOf } from './seals.ts';

const LIMIT_RANGE = 'must be a whole number from 1 to 200';

/** Plain decimal digits only: `0x10`, `1e1`, ` 5` and `5.0` are not a limit, whatever Number() makes of them. */
export const pageLimit = z
  .string({ error: LIMIT_RANGE })
  .regex(/^[0-9]{1,3}$/, { error: LIMIT_RANGE })
  .transform(Number)
  .pipe(z.number().min(1, { error: LIMIT_RANGE }).max(200, { error: LIMIT_RANGE }))
  .default(50);

/** `limit` (1-200, default 50) and `cursor`, for every list endpoint. */
export const pageQuery = z.strictObject({
  limit: pageLimit,
  cursor: z.string().min(1).max(512).optional(),
});

export type PageQuery = z.output<typeof pageQuery>;

/** The page the query asks for; a cursor this list did not hand out is a 422 on query.cursor. */
export function pageRequest(ctx: Context, query: PageQuery): PageRequest {
  return { limit: query.limit, after: query.cursor === undefined ? undefined : openCursor(ctx, query.cursor) };
}

/**
 * The next page's URL goes in a Link header, so the body stays a plain array. `filters` are the
 * query's filters, kept in the link so the next page answers the same question.
 */
export function linkNextPage<T>(ctx: Context, page: Page<T>, limit: number, filters: Record<string, string | undefined> = {}): T[] {
  if (page.next) {
    const kept = Object.entries(filters).filter((filter): filter is [string, string] => filter[1] !== undefined);
    const next = new URLSearchParams([...kept, ['limit', String(limit)], ['cursor', sealCursor(ctx, page.next)]]);
    ctx.set('Link', `<${ctx.path}?${next.toString()}>; rel="next"`);
  }
  return page.items;
}

/**
 * Opaque to clients: the keyset of the last row read, which may be a row the caller cannot see
 * (a list filtered after it is read), sealed for this list's path, so it reveals nothing and
 * serves no other list.
 */
function sealCursor(ctx: Context, keyset: Keyset): string {
  return sealsOf(ctx).sealCursor(`${keyset.createdAt.toISOString()}|${keyset.id}`, contextOf(ctx));
}

function openCursor(ctx: Context, cursor: string): Keyset {
  const [time = '', id = ''] = sealsOf(ctx).openCursor(cursor, contextOf(ctx))?.split('|') ?? [];
  const createdAt = new Date(time);
  if (Number.isNaN(createdAt.getTime()) || !z.uuid().safeParse(id).success) {
    throw new ValidationFailed([{ field: 'query.cursor', message: 'is not a cursor this list handed out' }]);
  }
  return { createdAt, id };
}

function contextOf(ctx: Context): string {
  return `page ${ctx.path}`;
}
