import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { CustomRole } from './custom-role.entity.ts';
import { Team } from './team.entity.ts';
import { User } from './user.entity.ts';
import { Workspace } from './workspace.entity.ts';

/**
 * Who holds a custom role, and where. Exactly one of `user` and `team` is set (a team's role
 * reaches its members, nested teams included). Without a workspace it holds across the
 * organization: role:<role>#member@<holder>. With one it holds there only, through a binding named
 * by this row's id: role_binding:<id>#role@role:<role>, role_binding:<id>#member@<holder> and
 * workspace:<workspace>#role_binding@role_binding:<id>.
 */
export class CustomRoleAssignment {
  id: string = randomUUID();
  role: CustomRole;
  user: User | null;
  team: Team | null;
  workspace: Workspace | null;
  createdAt: Date = new Date();

  constructor(role: CustomRole, holder: { user: User } | { team: Team }, workspace: Workspace | null) {
    this.role = role;
    this.user = 'user' in holder ? holder.user : null;
    this.team = 'team' in holder ? holder.team : null;
    this.workspace = workspace;
  }
}

export const CustomRoleAssignmentSchema = new EntitySchema<CustomRoleAssignment>({
  class: CustomRoleAssignment,
  tableName: 'custom_role_assignments',
  checks: [{ name: 'custom_role_assignments_one_holder', expression: '(user_id is null) <> (team_id is null)' }],
  properties: {
    id: { type: 'uuid', primary: true },
    role: { kind: 'm:1', entity: () => CustomRole, deleteRule: 'cascade' },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', nullable: true, index: true },
    team: { kind: 'm:1', entity: () => Team, deleteRule: 'cascade', nullable: true, index: true },
    workspace: { kind: 'm:1', entity: () => Workspace, deleteRule: 'cascade', nullable: true, index: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
