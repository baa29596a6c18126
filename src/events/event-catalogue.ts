/**
 * The outward names of what the audit log records: one event type per audit action, and the
 * fields of the change each one carries. An event's type is the action's name with `org.` spelled
 * `organization.`, so it never depends on this table; the table decides what `data` may say.
 * `data.changes` carries only the fields listed here: a field the audit log gains later stays
 * inside until someone decides it may leave. Never listed: secrets, tokens, and addresses of
 * people outside the organization (an invitee's email, the billing contact).
 */

export interface EventKind {
  /** The audit change fields the event carries as `{before, after}`. */
  fields: readonly string[];
  /** One line for the docs' table of types (docs/audit-and-events.md). */
  description: string;
}

/**
 * Audit actions that stay inside: a person's own sign-ins, credentials and account are theirs,
 * not a tenant's change; a service's webhook endpoints are its own business, and their URLs may
 * carry the receiver's credential (many receivers put it in the path).
 */
const PRIVATE_ACTIONS = new Set([
  'session.signed_in',
  'session.signed_out',
  'session.ended',
  'session.sign_in_failed',
  'user.email_verified',
  'user.password_reset',
  'user.password_changed',
  'user.deleted',
  'user.mfa_enabled',
  'user.mfa_disabled',
  'webhook_endpoint.created',
  'webhook_endpoint.changed',
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.deleted',
]);

const ORGANIZATION_NAME = ['name'];
const MEMBER_ROLE = ['role'];
const WORKSPACE_MEMBER = ['workspace_id', 'role', 'expires_at'];
const TEAM_FIELDS = ['name', 'description'];
const GRANT_FIELDS = ['subject', 'role', 'expires_at'];
const ROLE_FIELDS = ['name', 'description', 'permissions'];
const ROLE_ASSIGNMENT = ['role_id', 'role_name', 'workspace_id'];

/** By audit action. */
export const EVENT_CATALOGUE: Readonly<Record<string, EventKind>> = {
  'org.created': { fields: ['name', 'owner'], description: 'An organization was created (signup, or POST /orgs); `owner` is the user id' },
  'org.updated': { fields: ['name', 'default_workspace_role', 'require_mfa'], description: 'Its name, default workspace role or second-factor requirement changed' },
  'org.billing.updated': { fields: ['subscription_tier'], description: 'Its plan changed (a billing email change says only that billing changed)' },
  'org.deleted': { fields: ORGANIZATION_NAME, description: 'The organization and everything under it was deleted' },
  'org.ownership_transferred': { fields: ['owner'], description: 'Ownership moved to another member (the old owner is now an admin)' },
  'org.member.added': { fields: ['role', 'default_workspace_role'], description: 'A user joined with a role (`data.object` is the user)' },
  'org.member.role_changed': { fields: MEMBER_ROLE, description: "A member's organization role changed" },
  'org.member.removed': { fields: MEMBER_ROLE, description: 'A member was removed, with their workspace and team memberships' },
  'org.member.left': { fields: MEMBER_ROLE, description: 'A member left, with their workspace and team memberships' },
  'org.member.account_deleted': { fields: MEMBER_ROLE, description: 'A member deleted their account: their memberships, team memberships and grants went with it' },
  'org.invitation.created': { fields: ['role', 'workspaces', 'expires_at'], description: 'An invitation was sent (the invitee\'s email is never in the event)' },
  'org.invitation.revoked': { fields: ['state'], description: 'A pending invitation was revoked' },
  'org.invitation.resent': { fields: ['state', 'expires_at'], description: 'An invitation was sent again with a new expiry' },
  'org.invitation.accepted': { fields: ['state', 'accepted_by', 'role', 'workspaces'], description: 'An invitation was accepted; `accepted_by` is the new member' },
  'org.invitation.declined': { fields: ['state'], description: 'An invitation was declined' },
  'org.role.created': { fields: ROLE_FIELDS, description: 'A custom role was defined (`data.object` is the role)' },
  'org.role.updated': { fields: ROLE_FIELDS, description: "A custom role's name, description or permissions changed: every holder at once" },
  'org.role.deleted': { fields: ['name', 'permissions'], description: 'A custom role was deleted, with every assignment of it' },
  'org.role.assigned': { fields: ROLE_ASSIGNMENT, description: 'A user or team (`data.object`) was given a custom role, across the organization or in one workspace' },
  'org.role.unassigned': { fields: ROLE_ASSIGNMENT, description: 'A custom role was taken from a user or team' },
  'workspace.created': { fields: ['name', 'description'], description: 'A workspace was created' },
  'workspace.updated': { fields: ['name', 'description'], description: 'A workspace was renamed or described anew' },
  'workspace.deleted': { fields: ['name'], description: 'A workspace was deleted, with the resources under it' },
  'workspace.member.added': { fields: WORKSPACE_MEMBER, description: 'A user or team was given a workspace role (`data.object`)' },
  'workspace.member.role_changed': { fields: WORKSPACE_MEMBER, description: 'A workspace role or its expiry changed' },
  'workspace.member.removed': { fields: WORKSPACE_MEMBER, description: 'A workspace role was taken away' },
  'workspace.member.left': { fields: WORKSPACE_MEMBER, description: 'A user gave up their workspace role' },
  'team.created': { fields: TEAM_FIELDS, description: 'A team was created' },
  'team.updated': { fields: TEAM_FIELDS, description: 'A team was renamed or described anew' },
  'team.deleted': { fields: ['name'], description: 'A team was deleted, with its roles and grants' },
  'team.member.added': { fields: ['team_id'], description: 'A user or team (`data.object`) joined a team' },
  'team.member.removed': { fields: ['team_id'], description: 'A user or team was removed from a team' },
  'team.member.left': { fields: ['team_id'], description: 'A user left a team' },
  'resource.registered': { fields: ['workspace_id'], description: 'A service registered a resource under a workspace (`data.object`: type and id)' },
  'resource.moved': { fields: ['workspace_id', 'organization_id', 'team_grants'], description: 'A resource moved to another workspace; a move between organizations is told to both' },
  'resource.deleted': { fields: ['workspace_id'], description: 'A resource and all its relationships were deleted' },
  'resource.grant.added': { fields: GRANT_FIELDS, description: 'A resource was shared (`subject` is `user:<id>`, `team:<id>` or `user:*`)' },
  'resource.grant.removed': { fields: ['subject', 'role'], description: 'A share was taken back' },
  'module.relationships.written': { fields: ['count'], description: "A policy module's relationships were written (`data.object`: `policy_module:<name>`; the tuples are in the audit log)" },
  'module.relationships.deleted': { fields: ['count'], description: "A policy module's relationships were deleted (`data.object`: `policy_module:<name>`)" },
  'service_account.created': { fields: ['name', 'writable_types', 'modules', 'trusted', 'organization_ids'], description: 'A service account was created (never its key)' },
  'service_account.revoked': { fields: ['revoked_at'], description: "A service account's key was revoked" },
};

/** The event type of an audit action, or null for one that is never published. */
export function eventTypeOf(action: string): string | null {
  if (PRIVATE_ACTIONS.has(action)) return null;
  return action.startsWith('org.') ? `organization.${action.slice('org.'.length)}` : action;
}

/** Every published type, in the catalogue's order (for the documentation). */
export function catalogueTypes(): Array<{ type: string; action: string; kind: EventKind }> {
  return Object.entries(EVENT_CATALOGUE).flatMap(([action, kind]) => {
    const type = eventTypeOf(action);
    return type ? [{ type, action, kind }] : [];
  });
}

/**
 * Whether `type` is selected by a filter of type prefixes, each a whole dotted segment:
 * `organization.member` selects `organization.member.added`, never `organization.members_x`.
 * No filter selects everything.
 */
export function matchesTypes(type: string, prefixes: readonly string[] | null): boolean {
  if (!prefixes || prefixes.length === 0) return true;
  return prefixes.some((prefix) => type === prefix || type.startsWith(`${prefix}.`));
}
