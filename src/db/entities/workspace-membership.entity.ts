import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { User } from './user.entity.ts';
import { Workspace } from './workspace.entity.ts';

export const WORKSPACE_ROLES = ['admin', 'editor', 'viewer'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

/** The system of record for the tuple workspace:<workspace>#<role>@user:<user>. */
export class WorkspaceMembership {
  id: string = randomUUID();
  workspace: Workspace;
  user: User;
  role: WorkspaceRole;
  createdAt: Date = new Date();

  constructor(workspace: Workspace, user: User, role: WorkspaceRole) {
    this.workspace = workspace;
    this.user = user;
    this.role = role;
  }
}

export const WorkspaceMembershipSchema = new EntitySchema<WorkspaceMembership>({
  class: WorkspaceMembership,
  tableName: 'workspace_memberships',
  uniques: [{ properties: ['workspace', 'user'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    workspace: { kind: 'm:1', entity: () => Workspace, deleteRule: 'cascade' },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', index: true },
    role: { enum: true, items: () => WORKSPACE_ROLES, nativeEnumName: 'workspace_role' },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
