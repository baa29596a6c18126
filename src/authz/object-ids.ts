/**
 * Ids of policy-module objects (`docs/document`, `todo/list`): a service picks them freely, any
 * 1–512 printable characters (emails, paths such as `/todos/42`, ids with dots), while SpiceDB
 * takes only `[A-Za-z0-9/_|\-=+]`. One reversible rule maps one to the other, applied where the
 * vocabulary meets SpiceDB's wire types (spicedb-wire.ts), so every door (checks, lookups,
 * explain, relationship writes, import/export) speaks the service's own ids:
 *
 *   an id SpiceDB can already spell, not starting with `=`, is sent unchanged;
 *   any other id is sent as `=` followed by the unpadded base64url of its UTF-8 bytes.
 *
 * base64url's alphabet (`A-Z a-z 0-9 - _`) lies inside SpiceDB's, and `=` never starts an id sent
 * unchanged, so the two forms cannot collide: `alice@example.com` is `=YWxpY2VAZXhhbXBsZS5jb20`,
 * `doc-42` stays `doc-42`, and the valid-looking `=x` is encoded too (`=PXg`). Core types
 * (user, organization, workspace, team, chatbot, ...) keep their own ids and are never encoded.
 */

export const MAX_MODULE_OBJECT_ID_LENGTH = 512;
/** SpiceDB's own bound on an object id. */
const MAX_SPICEDB_ID_LENGTH = 1024;
const ENCODED_MARK = '=';
const SENT_UNCHANGED = /^[A-Za-z0-9/_|\-+][A-Za-z0-9/_|\-=+]*$/;
/** Printable: no control characters (C0, DEL, C1), no unpaired surrogates. */
const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;

/** Module types are the ones named with a module prefix: `<module>/<type>`. */
export function isModuleType(type: string): boolean {
  return type.includes('/');
}

/** Why a service's id for an object of a module type cannot be taken, or undefined when it can. */
export function moduleObjectIdProblem(id: string): string | undefined {
  if ([...id].length < 1 || [...id].length > MAX_MODULE_OBJECT_ID_LENGTH) return `must be 1-${MAX_MODULE_OBJECT_ID_LENGTH} characters`;
  if (!PRINTABLE.test(id)) return 'must be printable characters (no control characters)';
  if (toSpiceDbId('m/t', id).length > MAX_SPICEDB_ID_LENGTH) return `is too long once encoded for SpiceDB (over ${MAX_SPICEDB_ID_LENGTH} characters)`;
  return undefined;
}

/** The id SpiceDB stores for an object of `type`. The wildcard `*` is never encoded. */
export function toSpiceDbId(type: string, id: string): string {
  if (!isModuleType(type) || id === '*' || SENT_UNCHANGED.test(id)) return id;
  return ENCODED_MARK + Buffer.from(id, 'utf8').toString('base64url');
}

/** The service's own id back from the one SpiceDB stores. */
export function fromSpiceDbId(type: string, stored: string): string {
  if (!isModuleType(type) || !stored.startsWith(ENCODED_MARK)) return stored;
  return Buffer.from(stored.slice(ENCODED_MARK.length), 'base64url').toString('utf8');
}
