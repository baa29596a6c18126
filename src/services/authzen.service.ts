import type { SpiceDbClient } from '../authz/spicedb.client.ts';
import type { BulkCheckItemResult, GrantPath, ObjectRef, PermissionQuery } from '../authz/types.ts';
import { MalformedRequest, PayloadTooLarge } from '../errors.ts';
import { ASK_ABOUT_SELF, type AuthorizationService, type Caller, type ConsistencyInput } from './authorization.service.ts';
import type { AuthZenEntity, AuthZenVocabulary } from './authzen-vocabulary.ts';
import type { SearchPages } from './authzen-search-pages.ts';

/** What our own `context` keys ask of an evaluation or a search (docs/authorization-api.md, "AuthZEN"). */
export interface AuthZenOptions {
  /** Same values and default as /authz/check's `consistency` (read your writes). */
  consistency?: ConsistencyInput | undefined;
  /** Answer the decision's paths in its `context.reasons`. */
  explain?: boolean | undefined;
}

export interface Evaluation {
  subject: AuthZenEntity;
  action: { name: string };
  resource: AuthZenEntity;
  options: AuthZenOptions;
}

export interface Decision {
  decision: boolean;
  context?: { reasons?: GrantPath[]; error?: { status: number; message: string } };
}

export type EvaluationsSemantic = 'execute_all' | 'deny_on_first_deny' | 'permit_on_first_permit';

export interface Page {
  token?: string | undefined;
  limit?: number | undefined;
}

/** The most evaluations one request may carry (as /authz/check-bulk): more is a 413. */
export const MAX_EVALUATIONS = 1000;

/**
 * The AuthZEN Authorization API 1.0 over our own: evaluation is /authz/check (same cache,
 * coalescing, freshness and caller rules), evaluations one bulk check, and the searches our
 * lookups. Names map through AuthZenVocabulary; a name that means nothing here is a denial.
 */
export class AuthZenService {
  private readonly authorization: AuthorizationService;
  private readonly spicedb: SpiceDbClient;
  private readonly vocabulary: AuthZenVocabulary;
  private readonly pages: SearchPages;
  private readonly publicUrl: string | undefined;

  constructor(
    authorization: AuthorizationService,
    spicedb: SpiceDbClient,
    mapping: { vocabulary: AuthZenVocabulary; pages: SearchPages },
    publicUrl: string | undefined,
  ) {
    this.authorization = authorization;
    this.spicedb = spicedb;
    this.vocabulary = mapping.vocabulary;
    this.pages = mapping.pages;
    this.publicUrl = publicUrl;
  }

  /** Our PDP identifier: PUBLIC_URL, or else the origin the PEP reached us at. */
  policyDecisionPoint(requestOrigin: string): string {
    return this.publicUrl ?? requestOrigin;
  }

  /** One decision; a stranger's key or another user's token is refused (403) as on /authz/check. */
  async evaluate(caller: Caller, evaluation: Evaluation): Promise<Decision> {
    const query = this.vocabulary.query(evaluation);
    if (!query) return { decision: false };
    const { consistency, explain } = evaluation.options;
    if (!explain) return { decision: (await this.authorization.check(caller, query, consistency)).allowed };
    const explained = await this.authorization.explain(caller, query, consistency);
    return { decision: explained.allowed, context: { reasons: explained.paths } };
  }

  /**
   * Every evaluation answered alone: one the caller may not ask, or that SpiceDB could not
   * answer, is `false` with its error in its `context`. The checks go to SpiceDB in one bulk call
   * per distinct consistency (explained ones one by one); a short-circuit semantic answers up to
   * its deciding item, which changes what is answered, never what is decided.
   */
  async evaluateMany(caller: Caller, evaluations: Evaluation[], semantic: EvaluationsSemantic): Promise<Decision[]> {
    if (evaluations.length > MAX_EVALUATIONS) throw new PayloadTooLarge(`At most ${MAX_EVALUATIONS} evaluations per request`);
    const queries = evaluations.map((evaluation) => this.vocabulary.query(evaluation));
    const inScope = await this.authorization.inCallersScope(caller, queries.map((query) => query?.resource ?? NOWHERE));
    const decisions: Array<Decision | undefined> = queries.map((query, index) => {
      if (!query) return { decision: false };
      if (!this.authorization.mayAskAbout(caller, query.subject)) return failed(403, ASK_ABOUT_SELF);
      return inScope[index] ? undefined : failed(403, 'The resource is not in the caller\'s organizations');
    });
    const bulk = new Map<string, number[]>();
    for (const [index, evaluation] of evaluations.entries()) {
      if (decisions[index] !== undefined) continue;
      if (evaluation.options.explain) {
        decisions[index] = await this.evaluate(caller, evaluation);
        continue;
      }
      const key = JSON.stringify(evaluation.options.consistency ?? null);
      bulk.set(key, [...(bulk.get(key) ?? []), index]);
    }
    for (const indexes of bulk.values()) {
      const consistency = this.authorization.resolveConsistency(evaluations[indexes[0] ?? 0]?.options.consistency);
      const { results } = await this.spicedb.checkBulkPermissions(indexes.map((index) => queries[index] as PermissionQuery), consistency);
      indexes.forEach((index, position) => (decisions[index] = presentItem(results[position])));
    }
    return truncate(decisions as Decision[], semantic);
  }

  /** Which resources of a type may the subject act on (transitively)? Paged by SpiceDB's snapshot. */
  async searchResources(caller: Caller, request: { subject: AuthZenEntity; action: { name: string }; resourceType: string; page: Page; options: AuthZenOptions }) {
    const subject = this.vocabulary.object(request.subject);
    const resourceType = this.vocabulary.spiceDbType(request.resourceType);
    const permission = resourceType && this.vocabulary.permission(resourceType, request.action.name);
    if (!subject || !resourceType || !permission) return { results: [], nextToken: '' };
    const page = await this.authorization.lookupResources(
      caller,
      { resourceType, permission, subject, limit: request.page.limit ?? Number.POSITIVE_INFINITY, cursor: request.page.token },
      request.options.consistency,
    );
    return { results: page.resourceIds.map((id) => this.vocabulary.entity({ type: resourceType, id })), nextToken: page.next ?? '' };
  }

  /** Who of a type may act on the resource (teams and nesting count)? For service accounts only, as /authz/lookup-subjects. */
  async searchSubjects(caller: Caller, request: { subjectType: string; action: { name: string }; resource: AuthZenEntity; page: Page; options: AuthZenOptions }) {
    const resource = this.vocabulary.object(request.resource);
    const subjectType = this.vocabulary.spiceDbType(request.subjectType);
    const permission = resource && this.vocabulary.permission(resource.type, request.action.name);
    if (!resource || !subjectType || !permission) return { results: [], nextToken: '' };
    const { subjectIds } = await this.authorization.lookupSubjects(
      caller,
      { resource, permission, subjectType },
      request.options.consistency,
    );
    // `*` (every user: public access) is a rule, not a subject to list.
    const ids = subjectIds.filter((id) => id !== '*');
    const query = ['subject', subjectType, permission, resource.type, resource.id];
    return this.pageOf(caller, query, ids, request.page, (id) => this.vocabulary.entity({ type: subjectType, id }));
  }

  /** The permissions (never relations) the subject holds on the resource, checked in one bulk call. */
  async searchActions(caller: Caller, request: { subject: AuthZenEntity; resource: AuthZenEntity; page: Page; options: AuthZenOptions }) {
    const subject = this.vocabulary.object(request.subject);
    const resource = this.vocabulary.object(request.resource);
    if (!subject || !resource) return { results: [], nextToken: '' };
    const permissions = this.vocabulary.permissionsOf(resource.type);
    const { results } = await this.authorization.checkBulk(
      caller,
      permissions.map((permission) => ({ subject, resource, permission })),
      request.options.consistency,
    );
    const held = permissions.filter((_, index) => allowed(results[index]));
    const query = ['action', subject.type, subject.id, resource.type, resource.id];
    return this.pageOf(caller, query, held, request.page, (name) => ({ name }));
  }

  /** A page of a sorted list answered whole, continuing after the token's last item. */
  private pageOf<T>(caller: Caller, query: string[], sorted: string[], page: Page, present: (item: string) => T) {
    const after = page.token === undefined ? undefined : this.pages.open(page.token, caller, query);
    const remaining = after === undefined ? sorted : sorted.filter((item) => item > after);
    const taken = remaining.slice(0, page.limit ?? remaining.length);
    const last = taken.at(-1);
    const more = remaining.length > taken.length && last !== undefined;
    return { results: taken.map(present), nextToken: more ? this.pages.next(caller, query, last) : '' };
  }
}

/** A placeholder for an evaluation that names nothing: its scope is never looked at. */
const NOWHERE: ObjectRef = { type: 'organization', id: 'none' };

function failed(status: number, message: string): Decision {
  return { decision: false, context: { error: { status, message } } };
}

function allowed(result: BulkCheckItemResult | undefined): boolean {
  return result !== undefined && 'allowed' in result && result.allowed;
}

function presentItem(result: BulkCheckItemResult | undefined): Decision {
  if (result === undefined) return failed(500, 'SpiceDB returned no result for this evaluation');
  return 'error' in result ? failed(500, result.error) : { decision: result.allowed };
}

function truncate(decisions: Decision[], semantic: EvaluationsSemantic): Decision[] {
  if (semantic === 'execute_all') return decisions;
  const deciding = decisions.findIndex(({ decision }) => decision === (semantic === 'permit_on_first_permit'));
  return deciding === -1 ? decisions : decisions.slice(0, deciding + 1);
}

interface EvaluationParts<C> {
  subject?: AuthZenEntity | undefined;
  action?: { name: string } | undefined;
  resource?: AuthZenEntity | undefined;
  context?: C | undefined;
}

/**
 * Each item with the request's top-level entities and context as defaults, each replaced whole
 * by the item's own; 400 when an item lacks an entity and the request gives no default. No items:
 * the request itself is the one evaluation.
 */
export function mergeDefaults<C>(defaults: EvaluationParts<C>, items: Array<EvaluationParts<C>>) {
  const single = items.length === 0;
  return (single ? [{}] : items).map((item: EvaluationParts<C>, index) => {
    const subject = item.subject ?? defaults.subject;
    const action = item.action ?? defaults.action;
    const resource = item.resource ?? defaults.resource;
    if (!subject || !action || !resource) {
      const missing = Object.entries({ subject, action, resource }).flatMap(([key, value]) => (value ? [] : [key]));
      const where = single ? 'The request' : `evaluations[${index}]`;
      throw new MalformedRequest(`${where} has no ${missing.join(', ')}${single ? '' : ', and the request gives no default'}`);
    }
    return { subject, action, resource, context: item.context ?? defaults.context };
  });
}
