/** Keyset pagination: a page starts after the (createdAt, id) of the last row of the previous one. */
export interface Keyset {
  createdAt: Date;
  id: string;
}

export interface PageRequest {
  limit: number;
  after?: Keyset | undefined;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts; absent on the last page. */
  next?: Keyset | undefined;
}

/** The MikroORM condition for rows strictly after the keyset, in (createdAt, id) order. */
export function afterKeyset(after: Keyset | undefined) {
  if (!after) return {};
  return {
    $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, id: { $gt: after.id } }],
  };
}

/** Find options for one page in (createdAt, id) order: limit + 1 rows, the extra one says whether a next page exists. */
export function pageOptions(page: PageRequest) {
  return { orderBy: { createdAt: 'asc', id: 'asc' } as const, limit: page.limit + 1 };
}

/** Rows were fetched with limit + 1: the extra one only says whether a next page exists. */
export function toPage<R extends Keyset, T>(rows: R[], limit: number, present: (row: R) => T): Page<T> {
  const pageRows = rows.slice(0, limit);
  const last = pageRows.at(-1);
  return {
    items: pageRows.map(present),
    next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : undefined,
  };
}
