import type { Resource, ResourceGrant } from '../../db/entities/index.ts';

export function presentResource(resource: Resource) {
  return {
    type: resource.type,
    id: resource.id,
    parent: { type: 'workspace' as const, id: resource.workspaceId },
    organization_id: resource.organizationId,
    registered_by: {
      service_account_id: resource.registeredBy,
      on_behalf_of: resource.onBehalfOf ? { type: 'user' as const, id: resource.onBehalfOf } : null,
    },
    created_at: resource.createdAt.toISOString(),
    updated_at: resource.updatedAt.toISOString(),
  };
}

export function presentGrant(grant: ResourceGrant) {
  return {
    subject: { type: grant.subjectType, id: grant.subjectId },
    role: grant.role,
    expires_at: grant.expiresAt?.toISOString() ?? null,
    granted_by: {
      service_account_id: grant.grantedBy,
      on_behalf_of: grant.onBehalfOf ? { type: 'user' as const, id: grant.onBehalfOf } : null,
    },
    created_at: grant.createdAt.toISOString(),
  };
}
