import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PERMISSION_NAMES, PERMISSIONS } from './permissions.ts';

/**
 * schema.zed lives at the repository root; this file runs from src/authz (as TypeScript) or
 * dist/src/authz (compiled), so look upward for it instead of hard-coding the depth.
 */
function schemaPath(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(directory, 'schema.zed');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('schema.zed was not found above ' + import.meta.url);
    directory = parent;
  }
}

export function readSchema(): string {
  return readFileSync(schemaPath(), 'utf8');
}

/** Where policy modules live unless POLICY_DIR says otherwise: `policy/` beside schema.zed. */
export function defaultPolicyDirectory(): string {
  return path.join(path.dirname(schemaPath()), 'policy');
}

/** What one definition of the schema declares. */
export interface DefinitionModel {
  /** Each relation with the object types its subjects may have. */
  relations: Map<string, Set<string>>;
  /** Each relation with the exact subject forms it takes: `user`, `team#member`, `user:*` (expiry traits left out). */
  subjects: Map<string, Set<string>>;
  /** Each relation that takes a wildcard, with the types whose `<type>:*` it takes. */
  wildcards: Map<string, Set<string>>;
  permissions: Set<string>;
  /** The definition's text between its braces, comments removed. */
  body: string;
}

/** The definitions of a schema, by name: enough to validate requests before they reach SpiceDB. */
export type SchemaModel = Map<string, DefinitionModel>;

export function describeSchema(schemaText: string): SchemaModel {
  const model: SchemaModel = new Map();
  for (const [, definition = '', body = ''] of withoutComments(schemaText).matchAll(/definition\s+([a-z_][a-z0-9_/]*)\s*\{([^}]*)\}/g)) {
    const relations = new Map<string, Set<string>>();
    const subjectForms = new Map<string, Set<string>>();
    const wildcards = new Map<string, Set<string>>();
    for (const [, relation = '', types = ''] of body.matchAll(/^\s*relation\s+([a-z_][a-z0-9_]*)\s*:\s*(.+)$/gm)) {
      // `user`, `team#member`, `user:*`, `user with expiration`: the object type is the first word.
      const subjects = types.split('|').map((type) => type.trim());
      relations.set(relation, new Set(subjects.map((subject) => subject.split(/[\s#:]/)[0] ?? '')));
      subjectForms.set(relation, new Set(subjects.map((subject) => subject.split(/\s/)[0] ?? '')));
      const wildcardTypes = subjects.flatMap((subject) => /^([a-z_][a-z0-9_]*):\*/.exec(subject)?.[1] ?? []);
      if (wildcardTypes.length > 0) wildcards.set(relation, new Set(wildcardTypes));
    }
    const permissions = new Set([...body.matchAll(/^\s*permission\s+([a-z_][a-z0-9_]*)\s*=/gm)].map((match) => match[1] ?? ''));
    model.set(definition, { relations, subjects: subjectForms, wildcards, permissions, body });
  }
  return model;
}

/**
 * Whether, under this schema, the passing of time can only take access away. Its one trait is
 * relationship expiration, and its permissions combine relations by union (`+`), intersection
 * (`&`) and arrows (`->`, `.any()`) only, each of which can only lose members when a relationship
 * expires. So an allow may turn into a denial as time passes, but a denial stands until a write.
 * An exclusion (`-`), an `.all()` arrow or a caveat could let time grant access. The reading is a
 * whitelist: every token must be one of those the statement above allows, and anything else
 * (a string, a number, another `use` or trait, a caveat, `partial`) answers false.
 */
export function timeOnlyRevokes(schemaText: string): boolean {
  const tokens = withoutComments(schemaText).match(/->|[A-Za-z_][A-Za-z0-9_/]*|\S/g) ?? [];
  return tokens.every((token, index) => {
    const next = tokens[index + 1];
    if (token === 'with' || token === 'use') return next === 'expiration';
    if (token === '.') return next === 'any';
    if (token === 'caveat' || token === 'partial' || token === 'all') return false;
    return /^[A-Za-z_]/.test(token) || ['->', '{', '}', '(', ')', ':', '|', '=', '+', '&', '#', '*', ';'].includes(token);
  });
}

/** Comments out, in one pass from the left, so a `/*` inside a `//` comment opens nothing. */
function withoutComments(schemaText: string): string {
  return schemaText.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, ' ');
}

/**
 * Definitions whose permissions only compose others (a custom role's grants, read by the
 * organization's and workspace's permissions): no caller asks them, so the registry names none.
 */
export const COMPOSITION_DEFINITIONS: ReadonlySet<string> = new Set(['role', 'role_binding']);

/** `definition/permission` pairs a caller may ask of a schema text, e.g. `organization/invite`. */
export function declaredPermissions(schemaText: string): Set<string> {
  return new Set(
    [...describeSchema(schemaText)]
      .filter(([definition]) => !COMPOSITION_DEFINITIONS.has(definition))
      .flatMap(([definition, { permissions }]) => [...permissions].map((permission) => `${definition}/${permission}`)),
  );
}

/** Differences between the registry and a schema; both lists empty when they agree one-to-one. */
export function compareRegistryWithSchema(schemaText: string): {
  missingFromSchema: string[];
  missingFromRegistry: string[];
} {
  const declared = declaredPermissions(schemaText);
  const registered = new Map(
    PERMISSION_NAMES.map((name) => [`${PERMISSIONS[name].resourceType}/${PERMISSIONS[name].permission}`, name]),
  );
  return {
    missingFromSchema: [...registered].filter(([key]) => !declared.has(key)).map(([, name]) => name),
    missingFromRegistry: [...declared].filter((key) => !registered.has(key)),
  };
}

/** Refuses to start a service whose registry names a permission the schema lacks, or the reverse. */
export function assertRegistryMatchesSchema(schemaText: string): void {
  const { missingFromSchema, missingFromRegistry } = compareRegistryWithSchema(schemaText);
  if (missingFromSchema.length === 0 && missingFromRegistry.length === 0) return;
  throw new Error(
    `The permission registry and schema.zed disagree: ` +
      `registry names missing from the schema [${missingFromSchema.join(', ')}], ` +
      `schema permissions missing from the registry [${missingFromRegistry.join(', ')}]`,
  );
}
