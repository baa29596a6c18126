import type { Api } from '../../http/route.ts';
import type { AuthorizationService } from '../../services/authorization.service.ts';
import { presentBulkCheck, presentCheck, presentExplainedCheck, presentModel, presentResourcePage, presentSubjects, presentWritten } from './presenter.ts';
import {
  checkBody,
  checkBulkBody,
  checkBulkResponse,
  checkResponse,
  lookupResourcesBody,
  lookupResourcesResponse,
  lookupSubjectsBody,
  lookupSubjectsResponse,
  relationshipsBody,
  schemaResponse,
  writtenResponse,
} from './schema.ts';

const BASE = '/api/v1/authz';
const tags = ['authorization'];

/** For the platform's other services (service-account keys), and users asking about themselves. */
export function authzRoutes(api: Api, authorization: AuthorizationService): void {
  api.addForCallers({
    method: 'post',
    path: `${BASE}/check`,
    summary: 'Can the subject do the permission on the resource? With `explain`, also how',
    tags,
    body: checkBody,
    response: { status: 200, description: 'The answer, and the ZedToken it was checked at', schema: checkResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) =>
      body.explain
        ? presentExplainedCheck(await authorization.explain(actor, body, body.consistency))
        : presentCheck(await authorization.check(actor, body, body.consistency)),
  });

  api.addForCallers({
    method: 'post',
    path: `${BASE}/check-bulk`,
    summary: 'Up to 1,000 checks in one SpiceDB call; results in order',
    tags,
    body: checkBulkBody,
    response: { status: 200, description: 'One result per item', schema: checkBulkResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) => presentBulkCheck(await authorization.checkBulk(actor, body.items, body.consistency)),
  });

  api.addForCallers({
    method: 'post',
    path: `${BASE}/lookup-resources`,
    summary: "Which resources of a type can the subject reach? Distinct ids in SpiceDB's order, paged by cursor from one snapshot",
    tags,
    body: lookupResourcesBody,
    response: { status: 200, description: 'A page of resource ids', schema: lookupResourcesResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) => {
      const page = await authorization.lookupResources(
        actor,
        { resourceType: body.resource_type, permission: body.permission, subject: body.subject, limit: body.limit, cursor: body.cursor },
        body.consistency,
      );
      return presentResourcePage(page);
    },
  });

  api.addForCallers({
    method: 'post',
    path: `${BASE}/lookup-subjects`,
    summary: 'Who can do the permission on the resource? (service accounts)',
    tags,
    body: lookupSubjectsBody,
    response: { status: 200, description: 'The subject ids', schema: lookupSubjectsResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) => {
      const found = await authorization.lookupSubjects(
        actor,
        { resource: body.resource, permission: body.permission, subjectType: body.subject_type },
        body.consistency,
      );
      return presentSubjects(found);
    },
  });

  for (const [method, operation, summary] of [
    ['post', 'touch', 'Register resources under workspaces, as PUT /resources does for each (the relationship-shaped form)'],
    ['delete', 'delete', 'Unregister resources, as DELETE /resources does for each (the relationship-shaped form)'],
  ] as const) {
    api.addForCallers({
      method,
      path: `${BASE}/relationships`,
      summary,
      tags,
      body: relationshipsBody,
      response: { status: 200, description: 'The ZedToken of the write, in the body and the header', schema: writtenResponse, zedToken: true },
      errors: [403],
      handler: async (ctx, { actor, body }) => {
        const writtenAt = await authorization.writeRelationships(actor, operation, body.relationships, body.on_behalf_of?.id);
        if (writtenAt) ctx.set('ZedToken', writtenAt);
        return presentWritten(writtenAt);
      },
    });
  }

  api.addForCallers({
    method: 'get',
    path: `${BASE}/schema`,
    summary: 'The schema text and the permission registry',
    tags,
    response: { status: 200, description: 'The authorization model', schema: schemaResponse },
    handler: async () => presentModel(authorization.describe()),
  });
}
