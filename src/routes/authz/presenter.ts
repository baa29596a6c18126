import type { ModuleDescription } from '../../services/authorization.service.ts';
import type { PermissionDefinition } from '../../authz/permissions.ts';
import type { BulkCheckItemResult, ExplainedCheck, GrantPath, ZedToken } from '../../authz/types.ts';
import type { DenialReason } from '../../services/mfa-requirement.ts';

export function presentCheck(result: { allowed: boolean; checkedAt: ZedToken; reason?: DenialReason | null }) {
  return { allowed: result.allowed, checked_at: result.checkedAt, ...(result.reason && { reason: result.reason }) };
}

export function presentExplainedCheck(result: ExplainedCheck) {
  return { ...presentCheck(result), explanation: { paths: result.paths.map(presentGrantPath) } };
}

/**
 * `text` reads like zed: `chatbot:b1 → workspace:w1 (viewer) → team:t1 (member) → user:u1`; a
 * custom role shows with its name: `organization:o1 → role:r1 "Billing manager" (member) → user:u1`.
 */
export function presentGrantPath(path: GrantPath) {
  const objects = path.steps.map(
    ({ object, relation, name }) => `${object.type}:${object.id}${name === undefined ? '' : ` ${JSON.stringify(name)}`}${relation ? ` (${relation})` : ''}`,
  );
  const subject = `${path.subject.type}:${path.subject.id}`;
  return {
    steps: path.steps.map(({ object, relation, name }) => ({
      type: object.type,
      id: object.id,
      ...(relation ? { relation } : {}),
      ...(name === undefined ? {} : { name }),
    })),
    subject: { type: path.subject.type, id: path.subject.id },
    complete: path.complete,
    text: [...objects, ...(path.complete ? [] : ['…']), subject].join(' → '),
  };
}

/** An item SpiceDB could not answer is a "no" that says why. */
export function presentBulkCheck(result: { results: BulkCheckItemResult[]; checkedAt: ZedToken }) {
  return {
    results: result.results.map((item) => ('error' in item ? { allowed: false, error: item.error } : { allowed: item.allowed })),
    checked_at: result.checkedAt,
  };
}

export function presentResourcePage(page: { resourceIds: string[]; next: string | null }) {
  return { resource_ids: page.resourceIds, next_cursor: page.next };
}

export function presentSubjects(found: { subjectIds: string[] }) {
  return { subject_ids: found.subjectIds };
}

export function presentWritten(writtenAt: ZedToken) {
  return { written_at: writtenAt };
}

export function presentModel(model: {
  schema: string;
  permissions: Array<{ name: string } & PermissionDefinition>;
  modules: ModuleDescription[];
}) {
  return {
    schema: model.schema,
    modules: model.modules,
    permissions: model.permissions.map(({ name, resourceType, permission, description }) => ({
      name,
      resource_type: resourceType,
      permission,
      description,
    })),
  };
}
