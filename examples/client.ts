// A client of tenant-authz, as another service of the platform would write it:
//   (a) verify a user's access token offline against the service's JWKS,
//   (b) register a chatbot under the user's default workspace (service-account key),
//   (c) check that the user may edit it, at least as fresh as that write.
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

/** POST a JSON body with the service-account key; throws on anything but 200. */
async function postAsService(path: string, body: unknown): Promise<Response> {
  const response = await fetch(new URL(path, baseUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
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

// (b) The chatbot belongs to the workspace: workspace roles now reach it.
const chatbot = { type: 'chatbot', id: chatbotId };
const written = await postAsService('/api/v1/authz/relationships', {
  relationships: [{ resource: chatbot, relation: 'workspace', subject: { type: 'workspace', id: workspaceId } }],
});
const zedToken = written.headers.get('ZedToken') ?? ((await written.json()) as { written_at: string }).written_at;
console.log(`registered: chatbot:${chatbotId} in workspace:${workspaceId}`);

// (c) at_least_as_fresh: the check is sure to see the write above, on any instance.
const checked = await postAsService('/api/v1/authz/check', {
  resource: chatbot,
  permission: 'chatbot:edit',
  subject: { type: 'user', id: userId },
  consistency: { at_least_as_fresh: zedToken },
});
const { allowed } = (await checked.json()) as { allowed: boolean };
console.log(`checked: user ${userId} ${allowed ? 'may' : 'may not'} edit chatbot:${chatbotId}`);
