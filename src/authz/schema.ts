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
 * (`&`) and arrows (`->`, `.any()`), each of which can only lose members when a relationship
 * expires, and by exclusion (`-`) of what nothing expiring can reach (the second-factor rule
 * excludes users no expiring relationship names). So an allow may turn into a denial as time
 * passes, but a denial stands until a write. An exclusion of anything an expiring relationship
 * reaches, an `.all()` arrow or a caveat could let time grant access. The reading is a whitelist:
 * every token must be one of those the statement above allows, and anything else (a string, a
 * number, another `use` or trait, a caveat, `partial`) answers false.
 */
export function timeOnlyRevokes(schemaText: string): boolean {
  const text = withoutComments(schemaText);
  const tokens = text.match(/->|[A-Za-z_][A-Za-z0-9_/]*|\S/g) ?? [];
  const known = tokens.every((token, index) => {
    const next = tokens[index + 1];
    if (token === 'with' || token === 'use') return next === 'expiration';
    if (token === '.') return next === 'any';
    if (token === 'caveat' || token === 'partial' || token === 'all') return false;
    return /^[A-Za-z_]/.test(token) || ['->', '{', '}', '(', ')', ':', '|', '=', '+', '&', '-', '#', '*', ';'].includes(token);
  });
  if (!known) return false;
  const definitions = readDefinitions(text);
  const reach = new ExpiryReach(definitions);
  for (const [name, definition] of definitions) {
    for (const expression of definition.permissions.values()) {
      for (const subtracted of subtractedOperands(expression)) {
        if (namesIn(subtracted).some((used) => reach.canExpire(name, used))) return false;
      }
    }
  }
  return true;
}

interface DefinitionText {
  /** Relation name to its subject forms (`user`, `team#member`), and whether any is `with expiration`. */
  relations: Map<string, { subjects: string[]; expiring: boolean }>;
  /** Permission name to its expression. */
  permissions: Map<string, string>;
}

function readDefinitions(text: string): Map<string, DefinitionText> {
  const definitions = new Map<string, DefinitionText>();
  for (const [, name = '', body = ''] of text.matchAll(/definition\s+([a-z_][a-z0-9_/]*)\s*\{([^}]*)\}/g)) {
    const relations = new Map<string, { subjects: string[]; expiring: boolean }>();
    for (const [, relation = '', types = ''] of body.matchAll(/relation\s+([a-z_][a-z0-9_]*)\s*:([^;\n]*)/g)) {
      const subjects = types.split('|').map((subject) => subject.trim());
      relations.set(relation, { subjects: subjects.map((subject) => subject.split(/\s/)[0] ?? ''), expiring: /\bwith\s+expiration\b/.test(types) });
    }
    const permissions = new Map<string, string>();
    for (const [, permission = '', expression = ''] of body.matchAll(/permission\s+([a-z_][a-z0-9_]*)\s*=([\s\S]*?)(?=\brelation\b|\bpermission\b|;|$)/g)) {
      permissions.set(permission, expression);
    }
    definitions.set(name, { relations, permissions });
  }
  return definitions;
}

/** What follows each `-` in an expression, up to the end of the group it stands in. */
function subtractedOperands(expression: string): string[] {
  const operands: string[] = [];
  for (let index = expression.indexOf('-'); index >= 0; index = expression.indexOf('-', index + 1)) {
    if (expression[index + 1] === '>') continue;
    let depth = 0;
    let end = index + 1;
    for (; end < expression.length; end++) {
      if (expression[end] === '(') depth++;
      if (expression[end] === ')' && depth-- === 0) break;
    }
    operands.push(expression.slice(index + 1, end));
  }
  return operands;
}

/** The names an expression reads: `a`, `a->b`, `a.any(b)`. */
function namesIn(expression: string): string[] {
  return [...expression.matchAll(/([a-z_][a-z0-9_]*)\s*(?:->\s*([a-z_][a-z0-9_]*)|\.\s*any\s*\(\s*([a-z_][a-z0-9_]*)\s*\))?/g)].map(
    ([, first = '', arrow, any]) => (arrow ?? any ? `${first}->${arrow ?? any}` : first),
  );
}

/** Whether an expiring relationship can change what a name of a definition holds (unknown names: yes). */
class ExpiryReach {
  private readonly definitions: Map<string, DefinitionText>;
  private readonly visiting = new Set<string>();

  constructor(definitions: Map<string, DefinitionText>) {
    this.definitions = definitions;
  }

  canExpire(definition: string, name: string): boolean {
    const key = `${definition}#${name}`;
    if (this.visiting.has(key)) return false;
    this.visiting.add(key);
    try {
      const found = this.definitions.get(definition);
      if (!found) return true;
      const [tupleset = '', computed] = name.split('->');
      if (computed !== undefined) {
        const relation = found.relations.get(tupleset);
        if (!relation) return true;
        return relation.expiring || relation.subjects.some((subject) => this.canExpire(subject.split('#')[0] ?? '', computed));
      }
      const relation = found.relations.get(name);
      if (relation) {
        return relation.expiring || relation.subjects.some((subject) => subject.includes('#') && this.canExpire(subject.split('#')[0] ?? '', subject.split('#')[1] ?? ''));
      }
      const expression = found.permissions.get(name);
      if (expression === undefined) return true;
      return namesIn(expression).some((used) => this.canExpire(definition, used));
    } finally {
      this.visiting.delete(key);
    }
  }
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
