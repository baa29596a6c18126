/** JSON.parse for text a client or a file supplied: undefined instead of a SyntaxError. */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
