import { randomUUID } from 'node:crypto';
import { Entity, Enum, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { User } from './user.entity.js';
import { Workspace } from './workspace.entity.js';

export const WORKSPACE_ROLES = ['admin', 'editor', 'viewer'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

/** The system of record for the tuple workspace:<workspace>#<role>@user:<user>. */
@Entity({ tableName: 'workspace_memberships' })
@Unique({ properties: ['workspace', 'user'] })
export class WorkspaceMembership {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: () => Workspace, deleteRule: 'cascade' })
  workspace: Workspace;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', index: true })
  user: User;

  @Enum({ items: () => WORKSPACE_ROLES, nativeEnumName: 'workspace_role' })
  role: WorkspaceRole;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  constructor(workspace: Workspace, user: User, role: WorkspaceRole) {
    this.workspace = workspace;
    this.user = user;
    this.role = role;
  }
}
