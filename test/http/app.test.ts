import test from 'ava';
import { useTestService } from '../support/test-service.ts';

const service = useTestService(test);

const PROBLEM_JSON = 'application/problem+json';

test('GET /healthz answers 200 while the process is up', async (t) => {
  const response = await service.request('/healthz');
  t.is(response.status, 200);
  t.deepEqual(await response.json(), { status: 'ok' });
});

test('GET /readyz answers 200 when Postgres and SpiceDB both answer', async (t) => {
  const response = await service.request('/readyz');
  t.is(response.status, 200);
  t.deepEqual(await response.json(), { status: 'ready', checks: { postgres: 'ok', spicedb: 'ok' } });
});

test('an unknown route answers 404 problem+json', async (t) => {
  const response = await service.request('/api/v1/no-such-thing');
  t.is(response.status, 404);
  t.is(response.headers.get('content-type'), PROBLEM_JSON);
  const problem = (await response.json()) as Record<string, unknown>;
  t.like(problem, { type: 'urn:tenant-authz:problem:not-found', title: 'Not found', status: 404 });
  t.is(typeof problem.detail, 'string');
});

test('a known path with an unsupported method answers 405 problem+json', async (t) => {
  const response = await service.request('/healthz', { method: 'DELETE' });
  t.is(response.status, 405);
  t.is(response.headers.get('content-type'), PROBLEM_JSON);
});

test('a method the service does not implement answers 501 problem+json', async (t) => {
  const response = await service.request('/healthz', { method: 'PURGE' });
  t.is(response.status, 501);
  t.is(response.headers.get('content-type'), PROBLEM_JSON);
});

test('a malformed JSON body answers 400 problem+json', async (t) => {
  const response = await service.request('/healthz', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name": ',
  });
  t.is(response.status, 400);
  t.is(response.headers.get('content-type'), PROBLEM_JSON);
  t.like(await response.json(), { type: 'urn:tenant-authz:problem:malformed-request', status: 400 });
});

test('a body over the configured limit answers 413 problem+json', async (t) => {
  const response = await service.send('POST', '/healthz', { padding: 'x'.repeat(1100 * 1024) });
  t.is(response.status, 413);
  t.is(response.headers.get('content-type'), PROBLEM_JSON);
  t.like(await response.json(), { type: 'urn:tenant-authz:problem:payload-too-large', status: 413 });
});

test('every response carries an X-Request-Id, and a well-formed incoming one is kept', async (t) => {
  const fresh = await service.request('/healthz');
  t.regex(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

  const kept = await service.request('/nope', { headers: { 'X-Request-Id': 'trace-abc.123' } });
  t.is(kept.headers.get('x-request-id'), 'trace-abc.123');
  t.like(await kept.json(), { request_id: 'trace-abc.123' });

  const replaced = await service.request('/healthz', { headers: { 'X-Request-Id': 'bad id with spaces' } });
  t.not(replaced.headers.get('x-request-id'), 'bad id with spaces');
});

test('GET /metrics exposes request durations by route and status, and SpiceDB call durations', async (t) => {
  await service.request('/readyz');
  const response = await service.request('/metrics');
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await response.text();
  t.regex(text, /http_request_duration_seconds_count\{method="GET",route="\/readyz",status="200"\} \d+/);
  t.regex(text, /spicedb_call_duration_seconds_count\{method="ReadSchema",outcome="ok"\} \d+/);
  t.regex(text, /spicedb_call_errors_total/);
  t.regex(text, /^outbox_backlog \d+$/m);
});

test('GET /openapi.json is an OpenAPI 3.1 document generated from the route declarations', async (t) => {
  const response = await service.request('/openapi.json');
  t.is(response.status, 200);
  const document = (await response.json()) as {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, unknown> };
  };
  t.is(document.openapi, '3.1.0');
  t.truthy(document.paths['/readyz']?.get?.responses['503']);
  t.truthy(document.paths['/docs/assets/{name}']?.get);
  t.truthy(document.components.schemas.Readiness);
  t.truthy(document.components.schemas.Problem);
});

test('GET /docs serves a docs page whose assets come from this service, not a CDN', async (t) => {
  const page = await service.request('/docs');
  t.is(page.status, 200);
  const html = await page.text();
  t.false(/https?:\/\//.test(html));
  for (const asset of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    const response = await service.request(asset[1] ?? '');
    t.is(response.status, 200, asset[1]);
  }
  // Only the listed assets are served, not any file of the package.
  t.is((await service.request('/docs/assets/package.json')).status, 404);
});
