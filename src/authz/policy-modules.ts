import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.ts';
import { defaultPolicyDirectory, describeSchema, readSchema, type SchemaModel } from './schema.ts';

/**
 * Policy modules: other services bring their own model as one file each, `policy/<name>.zed`,
 * whose definitions are all named `<name>/<type>`. A module may refer to the core types and to
 * its own, never define or change a core type. At boot the service composes schema.zed with every
 * module into the one schema it writes to SpiceDB; a module breaking these rules (or one SpiceDB
 * refuses) stops boot with one line naming the file, the line and the reason.
 */

/** The types of schema.zed a module may refer to. */
export const CORE_TYPES: readonly string[] = ['user', 'organization', 'workspace', 'team'];

// SpiceDB's grammar for a definition prefix and a type name.
const NAME = /^[a-z][a-z0-9_]{1,62}[a-z0-9]$/;

export interface PolicyModule {
  name: string;
  /** The path it was read from, as shown in errors. */
  file: string;
  /** Its definitions' full names, `<name>/<type>`, in file order. */
  types: string[];
  /** How many lines of the composed schema are its. */
  lineCount: number;
}

export interface Policy {
  /** schema.zed's text. */
  core: string;
  modules: PolicyModule[];
  /** What is written to SpiceDB: schema.zed, then each module in name order. */
  composed: string;
  /** The composed schema's definitions: what requests are validated against. */
  model: SchemaModel;
}

/** A module that breaks the rules, or that SpiceDB refused: boot stops (exit 78, like a bad setting). */
export class PolicyModuleError extends ConfigError {
  override name = 'PolicyModuleError';
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** The module a type belongs to (`docs` for `docs/folder`), or undefined for a core type. */
export function moduleOfType(type: string): string | undefined {
  const slash = type.indexOf('/');
  return slash < 0 ? undefined : type.slice(0, slash);
}

/** schema.zed, read once, with the modules of POLICY_DIR (default: `policy/` beside schema.zed). */
export function readPolicy(policyDirectory: string | undefined): Policy {
  return loadPolicy(readSchema(), policyDirectory ?? defaultPolicyDirectory());
}

/** Every `<name>.zed` of the directory (none when it does not exist), composed with schema.zed. */
export function loadPolicy(core: string, directory: string): Policy {
  const files = existsSync(directory) ? readdirSync(directory).filter((file) => file.endsWith('.zed')).sort() : [];
  const shown = (file: string) => path.relative(process.cwd(), path.join(directory, file)) || file;
  return composePolicy(
    core,
    files.map((file) => ({ file: shown(file), text: readFileSync(path.join(directory, file), 'utf8') })),
  );
}

export function composePolicy(core: string, sources: Array<{ file: string; text: string }>): Policy {
  const modules: PolicyModule[] = [];
  const parts = [core];
  for (const source of sources) {
    const { module, text } = checkModule(source.file, source.text);
    modules.push(module);
    parts.push(text);
  }
  const composed = parts.join('\n');
  return { core, modules, composed, model: describeSchema(composed) };
}

/**
 * Where a line of the composed schema came from: schema.zed or a module file, with its own line.
 * SpiceDB names lines of what it was sent; the operator needs the file.
 */
export function locateComposedLine(policy: Policy, composedLine: number, coreFile = 'schema.zed'): { file: string; line: number } {
  const coreLines = policy.core.split('\n').length;
  if (composedLine <= coreLines) return { file: coreFile, line: composedLine };
  let start = coreLines;
  for (const module of policy.modules) {
    if (composedLine <= start + module.lineCount) return { file: module.file, line: composedLine - start };
    start += module.lineCount;
  }
  return { file: coreFile, line: composedLine };
}

/**
 * SpiceDB's refusal of the composed schema, as the file and line it is about. A parse error names
 * a line of what was sent; a semantic one (an unknown relation) names the definition and the
 * identifier in backquotes, which is looked up in that definition's lines.
 */
export function refusedSchemaError(policy: Policy, message: string): PolicyModuleError {
  const reason = (message.replace(/^.*?desc = /s, '').split('\n')[0] ?? message).trim();
  const refused = (at: { file: string; line: number }) => new PolicyModuleError(at.file, at.line, `SpiceDB refused it: ${reason}`);
  const atLine = /line (\d+)/.exec(reason);
  if (atLine) return refused(locateComposedLine(policy, Number(atLine[1])));
  const quoted = [...reason.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '');
  const definition = quoted.find((name) => policy.model.has(name));
  const lines = policy.composed.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^\\s*definition\\s+${escaped(definition ?? '\0')}\\s*\\{`).test(line));
  if (start < 0) return refused(locateComposedLine(policy, 1));
  const end = lines.findIndex((line, index) => index > start && /^\s*}/.test(line));
  const named = quoted.filter((name) => name !== definition);
  const offending = lines.findIndex(
    (line, index) => index > start && (end < 0 || index < end) && named.some((name) => new RegExp(`(^|[^\\w/])${escaped(name)}([^\\w/]|$)`).test(line)),
  );
  return refused(locateComposedLine(policy, (offending < 0 ? start : offending) + 1));
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The module's rules, line by line; returns it with its `use` lines blanked (schema.zed says `use expiration` once). */
function checkModule(file: string, text: string): { module: PolicyModule; text: string } {
  const name = path.basename(file, '.zed');
  if (!NAME.test(name)) {
    throw new PolicyModuleError(file, 1, `the module name ${name} must be 3-64 of a-z 0-9 _, starting with a letter (the file is <name>.zed)`);
  }
  const lines = withoutComments(text).split('\n');
  const declared = new Map<string, number>();
  lines.forEach((line, index) => {
    const defined = /^\s*(definition|caveat)\s+([^\s{(]+)/.exec(line);
    if (!defined) return;
    const [, kind = '', type = ''] = defined;
    const fail = (reason: string) => {
      throw new PolicyModuleError(file, index + 1, reason);
    };
    if (!type.includes('/')) {
      fail(
        CORE_TYPES.includes(type) || type === 'chatbot' || type === 'knowledge_base'
          ? `${kind} ${type}: a module may not define or change the core type ${type}`
          : `${kind} ${type} must be named ${name}/${type}`,
      );
    }
    const [prefix = '', local = ''] = type.split('/');
    if (prefix !== name) fail(`${kind} ${type} must be named ${name}/${local}: a module defines only its own types`);
    if (!NAME.test(local)) fail(`${kind} ${type}: the type name must be 3-64 of a-z 0-9 _, starting with a letter`);
    if (declared.has(type)) fail(`${kind} ${type} is defined twice`);
    declared.set(type, index + 1);
  });
  if (declared.size === 0) throw new PolicyModuleError(file, 1, `defines no types (each is written \`definition ${name}/<type> { ... }\`)`);
  lines.forEach((line, index) => {
    const use = /^\s*use\s+(\S+)/.exec(line);
    if (use && use[1] !== 'expiration') throw new PolicyModuleError(file, index + 1, `use ${use[1]}: modules may only use expiration`);
    const relation = /^\s*relation\s+([a-z_][a-z0-9_]*)\s*:(.*)$/.exec(line);
    if (!relation) return;
    for (const subject of (relation[2] ?? '').split('|')) {
      const type = subject.trim().split(/[\s#:]/)[0] ?? '';
      if (CORE_TYPES.includes(type) || declared.has(type)) continue;
      throw new PolicyModuleError(
        file,
        index + 1,
        `relation ${relation[1]} names ${type || 'no type'}, which is neither a core type (${CORE_TYPES.join(', ')}) nor a type of module ${name}`,
      );
    }
  });
  const module: PolicyModule = { name, file, types: [...declared.keys()], lineCount: text.split('\n').length };
  const blanked = text
    .split('\n')
    .map((line) => (/^\s*use\s/.test(line) ? '' : line))
    .join('\n');
  return { module, text: blanked };
}

/** Comments blanked, newlines kept, so line numbers stay those of the file. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (comment) => comment.replace(/[^\n]/g, ' '));
}
