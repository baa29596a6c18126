import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125220932Initial } from './migration-20261125220932-initial.ts';
import { Migration20261125222202IdentityAndOutbox } from './migration-20261125222202-identity-and-outbox.ts';
import { Migration20261125230932ServiceAccounts } from './migration-20261125230932-service-accounts.ts';
import { Migration20261126080000OutboxGrantsOnly } from './migration-20261126080000-outbox-grants-only.ts';
import { Migration20261126090000Resources } from './migration-20261126090000-resources.ts';
import { Migration20261127090000RevokedSessions } from './migration-20261127090000-revoked-sessions.ts';
import { Migration20261127100000LoginAttemptsInFlight } from './migration-20261127100000-login-attempts-in-flight.ts';
import { Migration20261201090000DefaultWorkspaceRole } from './migration-20261201090000-default-workspace-role.ts';
import { Migration20261202090000AuditEvents } from './migration-20261202090000-audit-events.ts';
import { Migration20261203090000Invitations } from './migration-20261203090000-invitations.ts';
import { Migration20261204090000Teams } from './migration-20261204090000-teams.ts';
import { Migration20261204100000TeamWorkspaceRoles } from './migration-20261204100000-team-workspace-roles.ts';
import { Migration20261204110000ExpiringWorkspaceMemberships } from './migration-20261204110000-expiring-workspace-memberships.ts';
import { Migration20261205090000ResourceGrants } from './migration-20261205090000-resource-grants.ts';
import { Migration20261210090000AuditChainsAndRetention } from './migration-20261210090000-audit-chains-and-retention.ts';
import { Migration20261216090000Events } from './migration-20261216090000-events.ts';
import { Migration20261216100000Webhooks } from './migration-20261216100000-webhooks.ts';

/** Listed explicitly so the same list works from the TypeScript sources and compiled JS; append new migrations here. */
export const migrations: MigrationObject[] = [
  { name: 'migration-20261125220932-initial', class: Migration20261125220932Initial },
  { name: 'migration-20261125222202-identity-and-outbox', class: Migration20261125222202IdentityAndOutbox },
  { name: 'migration-20261125230932-service-accounts', class: Migration20261125230932ServiceAccounts },
  { name: 'migration-20261126080000-outbox-grants-only', class: Migration20261126080000OutboxGrantsOnly },
  { name: 'migration-20261126090000-resources', class: Migration20261126090000Resources },
  { name: 'migration-20261127090000-revoked-sessions', class: Migration20261127090000RevokedSessions },
  { name: 'migration-20261127100000-login-attempts-in-flight', class: Migration20261127100000LoginAttemptsInFlight },
  { name: 'migration-20261201090000-default-workspace-role', class: Migration20261201090000DefaultWorkspaceRole },
  { name: 'migration-20261202090000-audit-events', class: Migration20261202090000AuditEvents },
  { name: 'migration-20261203090000-invitations', class: Migration20261203090000Invitations },
  { name: 'migration-20261204090000-teams', class: Migration20261204090000Teams },
  { name: 'migration-20261204100000-team-workspace-roles', class: Migration20261204100000TeamWorkspaceRoles },
  { name: 'migration-20261204110000-expiring-workspace-memberships', class: Migration20261204110000ExpiringWorkspaceMemberships },
  { name: 'migration-20261205090000-resource-grants', class: Migration20261205090000ResourceGrants },
  { name: 'migration-20261210090000-audit-chains-and-retention', class: Migration20261210090000AuditChainsAndRetention },
  { name: 'migration-20261216090000-events', class: Migration20261216090000Events },
  { name: 'migration-20261216100000-webhooks', class: Migration20261216100000Webhooks },
];
