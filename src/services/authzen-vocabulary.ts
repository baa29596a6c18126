import { isPermissionName, PERMISSIONS } from '../authz/permissions.ts';
import type { SchemaModel } from '../authz/schema.ts';
import type { ObjectRef, PermissionQuery } from '../authz/types.ts';

/** An AuthZEN subject or resource as a PEP names it. */
export interface AuthZenEntity {
  type: string;
  id: string;
}

// SpiceDB's object id alphabet, without the `*` wildcard (no one asks about "every user").
const SPICEDB_ID = /^[A-Za-z0-9/_|\-=+]{1,1024}$/;
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How AuthZEN's words become this schema's, and back: the only place that knows. A PEP names a
 * type by its bare name, an object by the id it knows, an action by a permission of the
 * resource's type (any case: `GET` is `get`) or by a registry name (`chatbot:edit`). A name that
 * means nothing here maps to `undefined`, which the API answers as a denial (or no results),
 * never as an error: a PEP asking about something we do not hold is simply not allowed.
 * Policy modules (their `<m>/<type>` types and encoded ids) will be learned here and nowhere else.
 */
export class AuthZenVocabulary {
  private readonly schema: SchemaModel;

  constructor(schema: SchemaModel) {
    this.schema = schema;
  }

  /** The SpiceDB type a bare AuthZEN type name means; undefined when the schema has none. */
  spiceDbType(name: string): string | undefined {
    return this.schema.has(name) ? name : undefined;
  }

  /** The SpiceDB object an AuthZEN entity names, or undefined when its type or id cannot be one. */
  object(entity: AuthZenEntity): ObjectRef | undefined {
    const type = this.spiceDbType(entity.type);
    if (type === undefined || !SPICEDB_ID.test(entity.id)) return undefined;
    // Users, organizations and workspaces are named by lower-case UUIDs, as everywhere in the API.
    return { type, id: UUID_SHAPE.test(entity.id) ? entity.id.toLowerCase() : entity.id };
  }

  /** The AuthZEN entity a SpiceDB object is answered as (search results). */
  entity(object: ObjectRef): AuthZenEntity {
    return { type: object.type, id: object.id };
  }

  /** The schema permission an action name means on a resource type; undefined for anything else, relations included. */
  permission(resourceType: string, actionName: string): string | undefined {
    if (isPermissionName(actionName)) {
      const definition = PERMISSIONS[actionName];
      return definition.resourceType === resourceType ? definition.permission : undefined;
    }
    const permission = actionName.toLowerCase();
    return this.schema.get(resourceType)?.permissions.has(permission) ? permission : undefined;
  }

  /** Every permission of a resource type (action search answers these, never relations), sorted. */
  permissionsOf(resourceType: string): string[] {
    return [...(this.schema.get(resourceType)?.permissions ?? [])].sort();
  }

  /** The check an evaluation asks for, or undefined when any of its names means nothing here. */
  query(request: { subject: AuthZenEntity; action: { name: string }; resource: AuthZenEntity }): PermissionQuery | undefined {
    const subject = this.object(request.subject);
    const resource = this.object(request.resource);
    const permission = resource && this.permission(resource.type, request.action.name);
    return subject && resource && permission ? { subject, resource, permission } : undefined;
  }
}
