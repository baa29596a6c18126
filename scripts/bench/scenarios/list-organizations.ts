// (d) list-organizations: GET /api/v1/orgs?limit=100 as the power user (a member of 100
// organizations), on the small graph and again on the full one: the list should stay flat.
import type { Bench } from '../bench.ts';
import { POWER_USER_EMAIL, POWER_USER_ORGS } from '../graph.ts';
import { log } from '../infra.ts';
import { measureHttp, type HttpScenario, type Measurement } from '../measure.ts';
import { api } from '../seeding.ts';
import { PASSWORD, SHAPE } from '../settings.ts';

const PATH = `/api/v1/orgs?limit=${POWER_USER_ORGS}`;

/** Signs the power user in and checks that the list answers every one of their organizations. */
export async function powerUserList(serviceUrl: string): Promise<HttpScenario> {
  const session = await api<{ access_token: string }>(serviceUrl, '/api/v1/auth/email/login', {
    body: { email: POWER_USER_EMAIL, password: PASSWORD },
  });
  const listed = await api<unknown[]>(serviceUrl, PATH, { token: session.access_token });
  if (listed.length !== POWER_USER_ORGS) throw new Error(`GET /orgs listed ${listed.length} organizations, not ${POWER_USER_ORGS}`);
  return { baseUrl: serviceUrl, method: 'GET', path: PATH, headers: { authorization: `Bearer ${session.access_token}` } };
}

/** On the small graph; its row joins the report next to the full graph's. */
export async function listOrganizationsOnSmallGraph(bench: Bench, list: HttpScenario): Promise<Measurement> {
  log('measuring GET /orgs on the small graph');
  const name = '(d) GET /orgs?limit=100, small graph';
  return bench.recorder.checkErrors(await measureHttp(name, list, SHAPE, bench.recorder.cpuProbe(name)));
}

export async function listOrganizationsOnFullGraph(bench: Bench, list: HttpScenario, small: Measurement): Promise<Measurement> {
  log('measuring (d) GET /orgs on the full graph');
  bench.recorder.results.push(small);
  const name = '(d) GET /orgs?limit=100, full graph';
  return bench.recorder.record(measureHttp(name, list, SHAPE, bench.recorder.cpuProbe(name)));
}
