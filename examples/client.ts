// A client of tenant-authz, as another service of the platform would write it. A user signed in to
// that service clicks "create chatbot"; the service acts on their behalf:
//   (a) verifies the user's access token offline against tenant-authz's JWKS,
//   (b) registers the chatbot under the user's workspace, naming the user it acts for (so the
//       user's own permission decides, not the service's),
//   (c) checks that the user may edit it, at least as fresh as that write.
//
//   BASE_URL=http://localhost:8080 SERVICE_KEY=<key> ACCESS_TOKEN=<token> node examples/client.ts
//
// SERVICE_KEY: `npm run cli -- service-account create chatbot-service --write chatbot`.
// ACCESS_TOKEN: the access_token of POST /api/v1/auth/email/signup or /login.
// Optional: CHATBOT_ID (default: a new one), JWT_ISSUER and JWT_AUDIENCE (default: tenant-authz).
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (see the comment at the top of examples/client.ts)`);
  return value;
}

const baseUrl = required('BASE_URL');
const serviceKey = required('SERVICE_KEY');
const accessToken = required('ACCESS_TOKEN');
const chatbotId = process.env.CHATBOT_ID ?? `bot_${randomUUID().slice(0, 8)}`;

/** A JSON request with the service-account key; throws unless it answers `expected`. */
async function asService(method: string, path: string, body: unknown, expected: number): Promise<Response> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== expected) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response;
}

// (a) Offline verification: the key set is fetched once and cached; no call per token.
const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', baseUrl));
const { payload } = await jwtVerify(accessToken, jwks, {
  issuer: process.env.JWT_ISSUER ?? 'tenant-authz',
  audience: process.env.JWT_AUDIENCE ?? 'tenant-authz',
  typ: 'at+jwt',
});
const userId = String(payload.sub);
const workspaceId = payload.workspace_id;
if (typeof workspaceId !== 'string') throw new Error('The token names no workspace');
console.log(`verified: user ${userId}, organization ${String(payload.org_id)}, workspace ${workspaceId}`);

// (b) On behalf of the user: allowed because they may edit that workspace. The chatbot then
// belongs to it, and the workspace's roles reach it.
const chatbot = { type: 'chatbot', id: chatbotId };
const registered = await asService(
  'PUT',
  `/api/v1/authz/resources/chatbot/${chatbotId}`,
  { parent: { type: 'workspace', id: workspaceId }, on_behalf_of: { type: 'user', id: userId } },
  201,
);
const zedToken = registered.headers.get('ZedToken') ?? '';
console.log(`registered: chatbot:${chatbotId} in workspace:${workspaceId}, for user ${userId}`);

// (c) at_least_as_fresh: the check is sure to see the write above, on any instance.
const checked = await asService(
  'POST',
  '/api/v1/authz/check',
  { resource: chatbot, permission: 'chatbot:edit', subject: { type: 'user', id: userId }, consistency: { at_least_as_fresh: zedToken } },
  200,
);
const { allowed } = (await checked.json()) as { allowed: boolean };
console.log(`checked: user ${userId} ${allowed ? 'may' : 'may not'} edit chatbot:${chatbotId}`);
