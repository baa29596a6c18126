import { isPermissionName, PERMISSION_NAMES, PERMISSIONS, type PermissionDefinition } from '../authz/permissions.ts';
import type { SchemaModel } from '../authz/schema.ts';
import { moduleOfType, type Policy } from '../authz/policy-modules.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { SpiceDbClient } from '../authz/spicedb.client.ts';
import type {
  BulkCheckItemResult,
  Consistency,
  ExplainedCheck,
  ObjectRef,
  PermissionQuery,
  Relationship,
  ZedToken,
} from '../authz/types.ts';
import { TENANT_OWNED_TYPES, tupleKey } from '../authz/relationships.ts';
import { withRoleNames } from '../authz/role-relationships.ts';
import { Resource, type ServiceAccount } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import type { ResourceService } from './resource.service.ts';
import type { ModuleRelationshipService } from './module-relationship.service.ts';
import { isModuleType } from '../authz/object-ids.ts';
import { assertObjectsInScope, idsInScope, objectsInScope } from './service-account-scope.ts';
import type { LookupBinding, LookupCursors } from './lookup-cursors.ts';
import { readResourcePage } from './resource-lookup.ts';
import type { Seals } from './seals.ts';
import { denialReason } from './mfa-requirement.ts';
import { Forbidden, ValidationFailed, type FieldError } from '../errors.ts';

export interface ModuleDescription {
  name: string;
  file: string;
  types: Array<{ name: string; relations: string[]; permissions: string[] }>;
}

/** Who calls the authorization API. */
export type Caller = { kind: 'user'; userId: string } | { kind: 'service'; account: ServiceAccount };

/** The calling service account; a user's access token is refused. */
export function serviceAccountOf(caller: Caller, action: string): ServiceAccount {
  if (caller.kind !== 'service') throw new Forbidden(`Only service accounts may ${action}`);
  return caller.account;
}

export type ConsistencyInput = 'read_your_writes' | 'minimize_latency' | 'fully_consistent' | { at_least_as_fresh: string };

export interface CheckInput {
  resource: ObjectRef;
  /** A registry name (`org:invite`) or the schema's own permission name for the resource type. */
  permission: string;
  subject: ObjectRef;
}

export interface LookupResourcesInput {
  resourceType: string;
  permission: string;
  subject: ObjectRef;
  limit: number;
  /** The previous page's `next`; absent for the first page. */
  cursor?: string | undefined;
}

export const ASK_ABOUT_SELF = 'An access token may only ask about its own user';

/** Request fields that can carry a ZedToken, named in a 422 when SpiceDB refuses one. */
const TOKEN_FIELDS = { consistency: 'body.consistency.at_least_as_fresh', cursor: 'body.cursor' } as const;

export interface LookupSubjectsInput {
  resource: ObjectRef;
  permission: string;
  subjectType: string;
}

/**
 * The authorization API for the platform's other services: checks, lookups, and the
 * relationships of the resources they own. Every input is checked against schema.zed before it
 * reaches SpiceDB, so a bad type or permission is a 422 naming the field, never a SpiceDB error.
 * The ZedTokens it answers are sealed (Seals), and only sealed ones are taken back.
 */
export class AuthorizationService {
  private readonly orm: Orm;
  private readonly spicedb: SpiceDbClient;
  private readonly resources: ResourceService;
  private readonly modules: ModuleRelationshipService;
  private readonly schema: SchemaModel;
  private readonly policy: Policy;
  private readonly seals: Seals;
  private readonly cursors: LookupCursors;
  private readonly metrics: Metrics;

  constructor(
    orm: Orm,
    spicedb: SpiceDbClient,
    resources: ResourceService,
    modules: ModuleRelationshipService,
    policy: Policy,
    clientTokens: { seals: Seals; cursors: LookupCursors },
    metrics: Metrics,
  ) {
    this.metrics = metrics;
    this.orm = orm;
    this.spicedb = spicedb;
    this.resources = resources;
    this.modules = modules;
    this.schema = policy.model;
    this.policy = policy;
    this.seals = clientTokens.seals;
    this.cursors = clientTokens.cursors;
  }

  async check(caller: Caller, input: CheckInput, consistency: ConsistencyInput | undefined) {
    const query = this.toQuery(input, 'body');
    this.assertMayAskAbout(caller, input.subject);
    await this.assertInCallersScope(caller, [input.resource]);
    this.countModuleCalls('check', [input.resource.type]);
    const result = await this.spicedb.checkPermission(query, this.resolveConsistency(consistency));
    // A denial the subject can end by enrolling a second factor says so.
    const reason = result.allowed || input.subject.type !== 'user' ? null : await denialReason(this.orm.em, input.subject.id, input.resource);
    return { allowed: result.allowed, checkedAt: this.seals.sealZedToken(result.checkedAt), reason };
  }

  /** The same check, answered with the paths that grant it (for admin screens and investigations). */
  async explain(caller: Caller, input: CheckInput, consistency: ConsistencyInput | undefined): Promise<ExplainedCheck> {
    const query = this.toQuery(input, 'body');
    this.assertMayAskAbout(caller, input.subject);
    await this.assertInCallersScope(caller, [input.resource]);
    this.countModuleCalls('explain', [input.resource.type]);
    const explained = await this.spicedb.explainPermission(query, this.resolveConsistency(consistency));
    const paths = await withRoleNames(this.orm.em.fork(), explained.paths);
    return { ...explained, paths, checkedAt: this.seals.sealZedToken(explained.checkedAt) };
  }

  /** One SpiceDB bulk call; results in the order of the items. */
  async checkBulk(
    caller: Caller,
    items: CheckInput[],
    consistency: ConsistencyInput | undefined,
  ): Promise<{ results: BulkCheckItemResult[]; checkedAt: ZedToken }> {
    const queries = collect(items.map((item, index) => () => this.toQuery(item, `body.items.${index}`)));
    for (const item of items) this.assertMayAskAbout(caller, item.subject);
    await this.assertInCallersScope(caller, items.map((item) => item.resource));
    this.countModuleCalls('check_bulk', items.map((item) => item.resource.type));
    const { results, checkedAt } = await this.spicedb.checkBulkPermissions(queries, this.resolveConsistency(consistency));
    return { results, checkedAt: this.seals.sealZedToken(checkedAt) };
  }

  /**
   * A page of distinct resource ids, in the order SpiceDB streams them (readResourcePage). Every
   * page of one listing reads the snapshot of the first, so paging neither skips nor repeats an
   * id while the graph changes underneath; its cursor (LookupCursors) serves only this caller,
   * for this query, for a short while.
   */
  async lookupResources(
    caller: Caller,
    input: LookupResourcesInput,
    consistency: ConsistencyInput | undefined,
  ): Promise<{ resourceIds: string[]; next: string | null }> {
    this.assertType(input.subject.type, 'body.subject.type');
    const permission = this.resolvePermission(input.resourceType, input.permission, 'body');
    this.assertMayAskAbout(caller, input.subject);
    this.countModuleCalls('lookup_resources', [input.resourceType]);
    const binding: LookupBinding = { caller: callerKey(caller), resourceType: input.resourceType, permission, subject: input.subject };
    const from = input.cursor === undefined ? undefined : this.cursors.open(input.cursor, binding);
    const page = await readResourcePage(this.spicedb, { resourceType: input.resourceType, permission, subject: input.subject }, {
      limit: input.limit,
      from,
      // A later page reads its cursor's snapshot, whatever consistency it names.
      consistency: this.resolveConsistency(from ? undefined : consistency),
      cursorField: TOKEN_FIELDS.cursor,
      visible: async (ids) => (caller.kind === 'service' ? idsInScope(this.orm.em, caller.account, input.resourceType, ids) : ids),
    });
    return { resourceIds: page.ids, next: page.next ? this.cursors.next(binding, page.next, from) : null };
  }

  /** "Who can do P on R?": for services only, since it names other users. */
  async lookupSubjects(caller: Caller, input: LookupSubjectsInput, consistency: ConsistencyInput | undefined) {
    serviceAccountOf(caller, 'list who holds a permission');
    const permission = this.resolvePermission(input.resource.type, input.permission, 'body');
    this.assertType(input.subjectType, 'body.subject_type');
    await this.assertInCallersScope(caller, [input.resource]);
    this.countModuleCalls('lookup_subjects', [input.resource.type]);
    const subjectIds = await this.spicedb.lookupSubjects(
      { resource: input.resource, permission, subjectType: input.subjectType },
      this.resolveConsistency(consistency),
    );
    return { subjectIds };
  }

  /**
   * The older, relationship-shaped way to register resources: each `<type>:<id>#workspace@
   * workspace:<id>` is registered (touch) or unregistered (delete) through the resource service,
   * with its record and one-parent rule, one after another. Organization and workspace roles
   * belong to the tenant API. A relationship listed twice counts once. Returns the ZedToken of
   * the last write (empty when nothing changed).
   */
  async writeRelationships(
    caller: Caller,
    operation: 'touch' | 'delete',
    relationships: Relationship[],
    onBehalfOf: string | undefined,
  ): Promise<ZedToken> {
    const account = serviceAccountOf(caller, 'write relationships');
    // A policy module's relationships: any relation of its types, by the module's own accounts.
    if (relationships.some(({ resource }) => isModuleType(resource.type))) {
      this.countModuleCalls(operation === 'touch' ? 'write' : 'delete', relationships.map(({ resource }) => resource.type));
      const { writtenAt } = await this.modules.write(account, operation, relationships, onBehalfOf);
      return writtenAt && this.seals.sealZedToken(writtenAt);
    }
    collect(relationships.map((relationship, index) => () => this.assertValidRelationship(relationship, `body.relationships.${index}`)));
    const foreign = relationships.filter(
      ({ resource }) => TENANT_OWNED_TYPES.has(resource.type) || !account.writableTypes.includes(resource.type),
    );
    if (foreign.length > 0) {
      const types = [...new Set(foreign.map(({ resource }) => resource.type))].join(', ');
      throw new Forbidden(`Service account ${account.name} may not write ${types} relationships`);
    }
    // This form only registers parents: a viewer or editor tuple is a grant, with its own record and rules.
    collect(
      relationships.map(({ relation }, index) => () => {
        if (relation !== 'workspace') {
          throw invalid(`body.relationships.${index}.relation`, `must be workspace; grant ${relation} through /api/v1/authz/resources/{type}/{id}/grants`);
        }
      }),
    );
    const distinct = [...new Map(relationships.map((relationship) => [tupleKey(relationship), relationship])).values()];
    let writtenAt: ZedToken = '';
    for (const { resource, subject } of distinct) {
      if (operation === 'touch') {
        const written = await this.resources.register(account, resource, { parentWorkspaceId: subject.id, onBehalfOf });
        writtenAt = written.zedToken ?? writtenAt;
        continue;
      }
      const registered = await this.orm.em.fork().findOne(Resource, { type: resource.type, id: resource.id });
      if (registered?.workspaceId !== subject.id) continue; // no such tuple: nothing to remove
      writtenAt = (await this.resources.delete(account, resource, onBehalfOf)).zedToken ?? writtenAt;
    }
    return writtenAt && this.seals.sealZedToken(writtenAt);
  }

  /** The composed schema, the core registry, and each policy module with its types' relations and permissions. */
  describe(): {
    schema: string;
    permissions: Array<{ name: string } & PermissionDefinition>;
    modules: ModuleDescription[];
  } {
    return {
      schema: this.policy.composed,
      permissions: PERMISSION_NAMES.map((name) => ({ name, ...PERMISSIONS[name] })),
      modules: this.policy.modules.map((module) => ({
        name: module.name,
        file: module.file,
        types: module.types.map((type) => {
          const definition = this.schema.get(type);
          return { name: type, relations: [...(definition?.relations.keys() ?? [])], permissions: [...(definition?.permissions ?? [])] };
        }),
      })),
    };
  }

  /** One count per module a call is about (a bulk check about two modules counts for each). */
  private countModuleCalls(operation: string, types: string[]): void {
    for (const module of new Set(types.flatMap((type) => moduleOfType(type) ?? []))) {
      this.metrics.policyModuleCalls.inc({ module, operation });
    }
  }

  /** With none given, a read sees every write acknowledged before it (read your writes). */
  resolveConsistency(input: ConsistencyInput | undefined): Consistency {
    if (input === undefined || input === 'read_your_writes') return { kind: 'read_your_writes' };
    if (input === 'minimize_latency') return { kind: 'minimize_latency' };
    if (input === 'fully_consistent') return { kind: 'fully_consistent' };
    const zedToken = this.seals.openZedToken(input.at_least_as_fresh);
    if (zedToken === undefined) throw invalid(TOKEN_FIELDS.consistency, 'is not a ZedToken this service handed out');
    return { kind: 'at_least_as_fresh', zedToken, suppliedAt: TOKEN_FIELDS.consistency };
  }

  private toQuery(input: CheckInput, at: string): PermissionQuery {
    this.assertType(input.subject.type, `${at}.subject.type`);
    return {
      resource: input.resource,
      permission: this.resolvePermission(input.resource.type, input.permission, at),
      subject: input.subject,
    };
  }

  /** A scoped service account asks only about objects of its own organizations. */
  private async assertInCallersScope(caller: Caller, resources: ObjectRef[]): Promise<void> {
    if (caller.kind === 'service') await assertObjectsInScope(this.orm.em, caller.account, resources);
  }

  /** For each resource, whether the caller may ask about it (in one read, for a batch that answers each alone). */
  async inCallersScope(caller: Caller, resources: ObjectRef[]): Promise<boolean[]> {
    return caller.kind === 'service' ? objectsInScope(this.orm.em, caller.account, resources) : resources.map(() => true);
  }

  /** A user may only ask about itself. */
  mayAskAbout(caller: Caller, subject: ObjectRef): boolean {
    return caller.kind !== 'user' || (subject.type === 'user' && subject.id === caller.userId);
  }

  private assertMayAskAbout(caller: Caller, subject: ObjectRef): void {
    if (!this.mayAskAbout(caller, subject)) throw new Forbidden(ASK_ABOUT_SELF);
  }

  private assertType(type: string, field: string): void {
    if (!this.schema.has(type)) throw invalid(field, `is not a type of the schema (${[...this.schema.keys()].join(', ')})`);
  }

  /** The schema permission a registry name or plain permission name means on `resourceType`. */
  private resolvePermission(resourceType: string, permission: string, at: string): string {
    const definition = this.schema.get(resourceType);
    if (!definition) throw invalid(`${at}.resource.type`, `is not a type of the schema (${[...this.schema.keys()].join(', ')})`);
    if (isPermissionName(permission)) {
      if (PERMISSIONS[permission].resourceType !== resourceType) {
        throw invalid(`${at}.permission`, `${permission} is a permission of ${PERMISSIONS[permission].resourceType}, not ${resourceType}`);
      }
      return PERMISSIONS[permission].permission;
    }
    if (!definition.permissions.has(permission)) {
      throw invalid(`${at}.permission`, `is not a permission of ${resourceType} (${[...definition.permissions].join(', ')})`);
    }
    return permission;
  }

  private assertValidRelationship({ resource, relation, subject }: Relationship, at: string): void {
    const definition = this.schema.get(resource.type);
    if (!definition) throw invalid(`${at}.resource.type`, 'is not a type of the schema');
    const subjectTypes = definition.relations.get(relation);
    if (!subjectTypes) throw invalid(`${at}.relation`, `is not a relation of ${resource.type}`);
    if (!subjectTypes.has(subject.type)) {
      throw invalid(`${at}.subject.type`, `must be ${[...subjectTypes].join(' or ')} for ${resource.type}#${relation}`);
    }
  }
}

function invalid(field: string, message: string): ValidationFailed {
  return new ValidationFailed([{ field, message }]);
}

/** Runs every validation, then throws one ValidationFailed with all their field errors. */
function collect<T>(validations: Array<() => T>): T[] {
  const errors: FieldError[] = [];
  const results: T[] = [];
  for (const validate of validations) {
    try {
      results.push(validate());
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      errors.push(...error.errors);
    }
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
  return results;
}

function callerKey(caller: Caller): string {
  return caller.kind === 'user' ? `user:${caller.userId}` : `service_account:${caller.account.id}`;
}
