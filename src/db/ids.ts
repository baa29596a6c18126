const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Only these can name a row: Postgres refuses anything else as a uuid (an error, not "no such row"). */
export function isCanonicalUuid(id: string): boolean {
  return CANONICAL_UUID.test(id);
}
