import type { WorkspaceMembership } from '../../db/entities/index.ts';
import type { WorkspacePermissions, WorkspaceView } from '../../services/workspace.service.ts';
import { presentMemberSubject } from '../teams/presenter.ts';

export function presentWorkspace({ workspace, role }: WorkspaceView) {
  return {
    id: workspace.id,
    organization_id: workspace.organization.id,
    name: workspace.name,
    description: workspace.description,
    created_at: workspace.createdAt.toISOString(),
    updated_at: workspace.updatedAt.toISOString(),
    role,
  };
}

export function presentWorkspaceMember(membership: WorkspaceMembership) {
  return {
    id: membership.id,
    workspace_id: membership.workspace.id,
    subject: presentMemberSubject(membership),
    ...(membership.team ? { team_id: membership.team.id } : { user_id: membership.user?.id ?? '' }),
    role: membership.role,
    expires_at: membership.expiresAt?.toISOString() ?? null,
    created_at: membership.createdAt.toISOString(),
  };
}

export function presentWorkspaceMemberWithUser(membership: WorkspaceMembership) {
  const { type: _type, id: _id, ...recognisedBy } = presentMemberSubject(membership);
  return { ...presentWorkspaceMember(membership), ...recognisedBy };
}

export function presentWorkspacePermissions(granted: WorkspacePermissions) {
  return { organization_id: granted.organizationId, workspace_id: granted.workspaceId, permissions: granted.permissions };
}
