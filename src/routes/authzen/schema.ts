import { z } from 'zod';
import { consistency, grantPath } from '../authz/schema.ts';

// AuthZEN 1.0: unknown fields are ignored (never refused), so these objects are not strict.

const properties = z.record(z.string(), z.unknown()).optional().meta({ description: 'Accepted and not used: decisions come from relationships' });

const entity = z.object({ type: z.string(), id: z.string(), properties }).meta({ id: 'AuthZenEntity' });

/** The entity a search looks for: its id, if sent, is ignored. */
const searched = z.object({ type: z.string(), id: z.string().optional(), properties });

const action = z.object({ name: z.string(), properties }).meta({ id: 'AuthZenAction' });

export const context = z
  .looseObject({
    consistency: consistency.optional(),
    explain: z.boolean().optional().meta({ description: 'Answer the paths that grant the decision in its context.reasons' }),
  })
  .meta({
    id: 'AuthZenContext',
    description: 'Free-form; the keys `consistency` (as /authz/check, default read_your_writes) and `explain` are ours',
  });

export const evaluationBody = z.object({ subject: entity, action, resource: entity, context: context.optional() }).meta({ id: 'AccessEvaluationRequest' });

const evaluationItem = z.object({
  subject: entity.optional(),
  action: action.optional(),
  resource: entity.optional(),
  context: context.optional(),
});

export const evaluationsBody = evaluationItem
  .extend({
    evaluations: z.array(evaluationItem).optional().meta({ description: 'At most 1,000 (more is a 413); absent or empty: one evaluation of the top-level entities' }),
    options: z
      .looseObject({ evaluations_semantic: z.enum(['execute_all', 'deny_on_first_deny', 'permit_on_first_permit']).optional() })
      .optional(),
  })
  .meta({ id: 'AccessEvaluationsRequest' });

const page = z
  .object({
    token: z.string().min(1).max(4096).optional(),
    limit: z.number().int().min(1).max(1000).optional().meta({ description: 'None: the whole result' }),
  })
  .optional();

export const subjectSearchBody = z.object({ subject: searched, action, resource: entity, context: context.optional(), page }).meta({ id: 'SubjectSearchRequest' });
export const resourceSearchBody = z.object({ subject: entity, action, resource: searched, context: context.optional(), page }).meta({ id: 'ResourceSearchRequest' });
export const actionSearchBody = z.object({ subject: entity, resource: entity, context: context.optional(), page }).meta({ id: 'ActionSearchRequest' });

const decision = z
  .object({
    decision: z.boolean(),
    context: z
      .object({
        reasons: z.array(grantPath).optional(),
        error: z.object({ status: z.number().int(), message: z.string() }).optional(),
      })
      .optional(),
  })
  .meta({ id: 'AccessDecision' });

export const evaluationResponse = decision;

export const evaluationsResponse = z
  .object({ decision: z.boolean().optional(), context: decision.shape.context, evaluations: z.array(decision).optional() })
  .meta({ id: 'AccessEvaluationsResponse' });

const pageOut = z.object({ next_token: z.string().meta({ description: 'Empty at the end of the result' }) });

export const entitySearchResponse = z
  .object({ page: pageOut, results: z.array(z.object({ type: z.string(), id: z.string() })) })
  .meta({ id: 'EntitySearchResponse' });

export const actionSearchResponse = z
  .object({ page: pageOut, results: z.array(z.object({ name: z.string() })) })
  .meta({ id: 'ActionSearchResponse' });

export const configurationResponse = z
  .object({
    policy_decision_point: z.string(),
    access_evaluation_endpoint: z.string(),
    access_evaluations_endpoint: z.string(),
    search_subject_endpoint: z.string(),
    search_resource_endpoint: z.string(),
    search_action_endpoint: z.string(),
  })
  .meta({ id: 'AuthZenConfiguration' });
