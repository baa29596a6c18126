// Response bodies as the API documents them: derived from the zod schemas the routes answer with,
// so a test cannot drift from the contract it checks.
import type { z } from 'zod';
import type { auditEventResponse } from '../../src/routes/audit/schema.ts';
import type { meResponse, sessionResponse, switchedContextResponse } from '../../src/routes/auth/schema.ts';
import type {
  checkBulkResponse,
  checkResponse,
  lookupResourcesResponse,
  lookupSubjectsResponse,
  schemaResponse,
  writtenResponse,
} from '../../src/routes/authz/schema.ts';
import type { organizationResponse } from '../../src/routes/organizations/schema.ts';
import type { teamResponse } from '../../src/routes/teams/schema.ts';
import type { workspacePermissionsResponse, workspaceResponse } from '../../src/routes/workspaces/schema.ts';

/** What signup, login and refresh answer. */
export type SessionBody = z.output<typeof sessionResponse>;
export type SwitchedBody = z.output<typeof switchedContextResponse>;
export type MeBody = z.output<typeof meResponse>;
export type CheckBody = z.output<typeof checkResponse>;
/** One event of an audit list, or one line of an export. */
export type AuditEventBody = z.output<typeof auditEventResponse>;
export type CheckBulkBody = z.output<typeof checkBulkResponse>;
export type LookupResourcesBody = z.output<typeof lookupResourcesResponse>;
export type LookupSubjectsBody = z.output<typeof lookupSubjectsResponse>;
export type WrittenBody = z.output<typeof writtenResponse>;
export type SchemaBody = z.output<typeof schemaResponse>;
export type OrganizationBody = z.output<typeof organizationResponse>;
export type WorkspaceBody = z.output<typeof workspaceResponse>;
export type WorkspacePermissionsBody = z.output<typeof workspacePermissionsResponse>;
export type TeamBody = z.output<typeof teamResponse>;
