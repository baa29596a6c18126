/** A Postgres array literal, bound as one parameter (the query builder would expand a JS array). */
export function postgresArray(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}
