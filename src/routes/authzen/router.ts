import type { Api } from '../../http/route.ts';
import { mergeDefaults, type AuthZenOptions, type AuthZenService, type Decision } from '../../services/authzen.service.ts';
import { presentGrantPath } from '../authz/presenter.ts';
import {
  actionSearchBody,
  actionSearchResponse,
  configurationResponse,
  entitySearchResponse,
  evaluationBody,
  evaluationResponse,
  evaluationsBody,
  evaluationsResponse,
  resourceSearchBody,
  subjectSearchBody,
} from './schema.ts';

/** The default paths of AuthZEN 1.0 under our base URL (the service's root). */
export const AUTHZEN_ENDPOINTS = {
  access_evaluation_endpoint: '/access/v1/evaluation',
  access_evaluations_endpoint: '/access/v1/evaluations',
  search_subject_endpoint: '/access/v1/search/subject',
  search_resource_endpoint: '/access/v1/search/resource',
  search_action_endpoint: '/access/v1/search/action',
} as const;

const tags = ['authzen'];

/**
 * OpenID AuthZEN Authorization API 1.0, for gateways and PEP libraries: the same decisions as
 * /api/v1/authz, in the standard's words. Errors are the spec's (a message string), not problems.
 */
export function authzenRoutes(api: Api, authzen: AuthZenService): void {
  api.add({
    method: 'get',
    path: '/.well-known/authzen-configuration',
    summary: 'AuthZEN PDP metadata: policy_decision_point is PUBLIC_URL (else the request origin), with every endpoint',
    tags,
    response: { status: 200, description: 'The PDP metadata', schema: configurationResponse },
    handler: async (ctx) => {
      const base = authzen.policyDecisionPoint(`${ctx.protocol}://${ctx.host}`);
      const endpoints = Object.entries(AUTHZEN_ENDPOINTS).map(([key, path]) => [key, `${base}${path}`]);
      return { policy_decision_point: base, ...(Object.fromEntries(endpoints) as Record<keyof typeof AUTHZEN_ENDPOINTS, string>) };
    },
  });

  api.addForPeps({
    method: 'post',
    path: AUTHZEN_ENDPOINTS.access_evaluation_endpoint,
    summary: 'AuthZEN access evaluation: may the subject do the action on the resource? A denial is 200 {"decision": false}',
    tags,
    body: evaluationBody,
    response: { status: 200, description: 'The decision', schema: evaluationResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) => presentDecision(await authzen.evaluate(actor, { ...body, options: optionsOf(body.context) })),
  });

  api.addForPeps({
    method: 'post',
    path: AUTHZEN_ENDPOINTS.access_evaluations_endpoint,
    summary: 'AuthZEN access evaluations: many decisions, top-level entities as defaults, three semantics',
    tags,
    body: evaluationsBody,
    response: { status: 200, description: 'One decision per evaluation, in order (up to the deciding one)', schema: evaluationsResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) => {
      const { evaluations = [], options, ...defaults } = body;
      // No evaluations: the request is one evaluation of its top-level entities.
      const merged = mergeDefaults(defaults, evaluations).map((item) => ({ ...item, options: optionsOf(item.context) }));
      const [single] = merged;
      if (evaluations.length === 0 && single) return presentDecision(await authzen.evaluate(actor, single));
      const decisions = await authzen.evaluateMany(actor, merged, options?.evaluations_semantic ?? 'execute_all');
      return { evaluations: decisions.map(presentDecision) };
    },
  });

  api.addForPeps({
    method: 'post',
    path: AUTHZEN_ENDPOINTS.search_subject_endpoint,
    summary: 'AuthZEN subject search: who of a type may do the action on the resource (service accounts)',
    tags,
    body: subjectSearchBody,
    response: { status: 200, description: 'The subjects, each once, in id order', schema: entitySearchResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) =>
      presentSearch(
        await authzen.searchSubjects(actor, { subjectType: body.subject.type, action: body.action, resource: body.resource, page: body.page ?? {}, options: optionsOf(body.context) }),
      ),
  });

  api.addForPeps({
    method: 'post',
    path: AUTHZEN_ENDPOINTS.search_resource_endpoint,
    summary: 'AuthZEN resource search: which resources of a type may the subject do the action on',
    tags,
    body: resourceSearchBody,
    response: { status: 200, description: 'The resources, each once, in id order', schema: entitySearchResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) =>
      presentSearch(
        await authzen.searchResources(actor, { subject: body.subject, action: body.action, resourceType: body.resource.type, page: body.page ?? {}, options: optionsOf(body.context) }),
      ),
  });

  api.addForPeps({
    method: 'post',
    path: AUTHZEN_ENDPOINTS.search_action_endpoint,
    summary: 'AuthZEN action search: the permissions (never relations) the subject holds on the resource',
    tags,
    body: actionSearchBody,
    response: { status: 200, description: 'The permission names, in name order', schema: actionSearchResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) =>
      presentSearch(await authzen.searchActions(actor, { subject: body.subject, resource: body.resource, page: body.page ?? {}, options: optionsOf(body.context) })),
  });
}

function optionsOf(given: AuthZenOptions | undefined): AuthZenOptions {
  return { consistency: given?.consistency, explain: given?.explain };
}

function presentDecision({ decision, context }: Decision) {
  if (!context) return { decision };
  const { reasons, error } = context;
  return { decision, context: { ...(reasons && { reasons: reasons.map(presentGrantPath) }), ...(error && { error }) } };
}

function presentSearch<T>({ results, nextToken }: { results: T[]; nextToken: string }) {
  return { page: { next_token: nextToken }, results };
}
