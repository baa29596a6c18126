import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Team } from './team.entity.ts';
import { User } from './user.entity.ts';
import { Workspace } from './workspace.entity.ts';

export const WORKSPACE_ROLES = ['admin', 'editor', 'viewer'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

/**
 * The system of record for the tuple workspace:<workspace>#<role>@user:<user>, or, for a team,
 * workspace:<workspace>#<role>@team:<team>#member: exactly one of `user` and `team` is set. With
 * `expiresAt`, the tuple carries the same expiration: SpiceDB stops counting it then, with no job
 * running, and the row is ignored from then on (see `live`).
 */
export class WorkspaceMembership {
  id: string = randomUUID();
  workspace: Workspace;
  user: User | null;
  team: Team | null;
  role: WorkspaceRole;
  expiresAt: Date | null;
  createdAt: Date = new Date();

  constructor(workspace: Workspace, holder: User | Team, role: WorkspaceRole, expiresAt: Date | null = null) {
    this.workspace = workspace;
    this.user = holder instanceof Team ? null : holder;
    this.team = holder instanceof Team ? holder : null;
    this.role = role;
    this.expiresAt = expiresAt;
  }
}

/** The condition for memberships that have not expired: an expired one is as good as gone. */
export function live(now: Date = new Date()) {
  return { $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] };
}

export function isLive(membership: WorkspaceMembership, now: Date = new Date()): boolean {
  return membership.expiresAt === null || membership.expiresAt > now;
}

export const WorkspaceMembershipSchema = new EntitySchema<WorkspaceMembership>({
  class: WorkspaceMembership,
  tableName: 'workspace_memberships',
  uniques: [{ properties: ['workspace', 'user'] }, { properties: ['workspace', 'team'] }],
  checks: [{ name: 'workspace_memberships_one_holder', expression: '(user_id is null) <> (team_id is null)' }],
  properties: {
    id: { type: 'uuid', primary: true },
    workspace: { kind: 'm:1', entity: () => Workspace, deleteRule: 'cascade' },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', nullable: true, index: true },
    team: { kind: 'm:1', entity: () => Team, deleteRule: 'cascade', nullable: true, index: true },
    role: { enum: true, items: () => WORKSPACE_ROLES, nativeEnumName: 'workspace_role' },
    expiresAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
