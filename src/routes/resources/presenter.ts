import type { Resource } from '../../db/entities/index.ts';

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
