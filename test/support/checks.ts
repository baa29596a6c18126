import { bearer, makeServiceAccount } from './factories.ts';
import type { CheckBody } from './responses.ts';
import type { TestService } from './test-service.ts';

export interface CheckRequest {
  resource: { type: string; id: string };
  permission: string;
  subject: { type: string; id: string; relation?: string };
  consistency?: unknown;
}

/**
 * Whether the subject holds the permission, asked as another service asks it: `POST
 * /api/v1/authz/check` with `key`, or with a fresh least-privilege account's key when none is
 * given. Anything but a 200 is a failure of the test, never a denial.
 */
export async function allowed(service: TestService, check: CheckRequest, key?: string): Promise<boolean> {
  const callerKey = key ?? (await makeServiceAccount(service)).key;
  const response = await service.send('POST', '/api/v1/authz/check', check, bearer(callerKey));
  if (response.status !== 200) throw new Error(`check answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as CheckBody).allowed;
}

/** The check a user's permission on a resource asks: `userMay('view', chatbot('bot-1'), user)`. */
export function userMay(permission: string, resource: { type: string; id: string }, user: { id: string }): CheckRequest {
  return { resource, permission, subject: { type: 'user', id: user.id } };
}
