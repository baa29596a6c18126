// (o) lookup-pages: what one page of POST /authz/lookup-resources costs as the result grows. A
// user reaching 1,000, 10,000 and 100,000 chatbots (one workspace each, as its viewer): the first
// and the fifth page of 100, through the service and as SpiceDB LookupResources with
// optional_limit 100 (the fifth from the cursor after 400), one connection, in the same run.
// Aims (issue 35): within 1.5x of direct at each size, and flat (<= 1.5x) as the size grows tenfold.
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { serviceRequest, type Bench } from '../bench.ts';
import { writeTuples, type Tuple } from '../graph.ts';
import { log } from '../infra.ts';
import { measureCalls, measureHttp, type LoadShape, type Measurement } from '../measure.ts';
import { api, sleep } from '../seeding.ts';
import { QUANTIZATION_WAIT_MS, SHAPE } from '../settings.ts';
import { deadline, minimizeLatency, subjectOf } from './direct-check.ts';

export const LOOKUP_SIZES = [1_000, 10_000, 100_000] as const;
const PAGE = 100;
const ROUTE = '/api/v1/authz/lookup-resources';

export interface LookupPageRun {
  size: number;
  page: 1 | 5;
  service: Measurement;
  direct: Measurement;
}

const userOf = (size: number) => `lookup-pages-user-${size}`;
const orgOf = (size: number) => `lookup-pages-org-${size}`;
const workspaceOf = (size: number) => `lookup-pages-ws-${size}`;

/** The user is a member of the organization and a viewer of its workspace, which holds `size` chatbots. */
function* tuplesOf(size: number): Generator<Tuple> {
  yield ['organization', orgOf(size), 'member', 'user', userOf(size)];
  yield ['workspace', workspaceOf(size), 'organization', 'organization', orgOf(size)];
  yield ['workspace', workspaceOf(size), 'viewer', 'user', userOf(size)];
  for (let index = 0; index < size; index++) yield ['chatbot', `lp_${size}_${index}`, 'workspace', 'workspace', workspaceOf(size)];
}

function lookupRequest(size: number, cursor?: v1.Cursor) {
  return v1.LookupResourcesRequest.create({
    consistency: minimizeLatency,
    resourceObjectType: 'chatbot',
    permission: 'view',
    subject: subjectOf(userOf(size)),
    optionalLimit: PAGE,
    ...(cursor && { optionalCursor: cursor }),
  });
}

/** SpiceDB's cursor after the first four pages of 100. */
async function directCursorOfPage5(bench: Bench, size: number): Promise<v1.Cursor | undefined> {
  let cursor: v1.Cursor | undefined;
  for (let page = 1; page < 5; page++) {
    const answers = await bench.spicedb.promises.lookupResources(lookupRequest(size, cursor), new Metadata(), deadline());
    cursor = answers.at(-1)?.afterResultCursor;
  }
  return cursor;
}

/** The service's cursor of the fifth page, and a check that the first five pages hold 500 distinct ids. */
async function serviceCursorOfPage5(bench: Bench, size: number): Promise<string> {
  const seen = new Set<string>();
  let cursor: string | null = null;
  for (let page = 1; page <= 5; page++) {
    const body: Record<string, unknown> = { resource_type: 'chatbot', permission: 'view', subject: { type: 'user', id: userOf(size) }, limit: PAGE, ...(cursor && { cursor }) };
    const answered: { resource_ids: string[]; next_cursor: string | null } = await api(bench.service.url, ROUTE, { token: bench.serviceKey, body });
    for (const id of answered.resource_ids) seen.add(id);
    if (page === 5) break;
    if (!answered.next_cursor) throw new Error(`(o) the listing of ${size} ended after page ${page}`);
    cursor = answered.next_cursor;
  }
  if (seen.size !== 5 * PAGE) throw new Error(`(o) the first five pages of ${size} held ${seen.size} distinct ids, not ${5 * PAGE}`);
  return cursor ?? '';
}

export async function lookupPages(bench: Bench): Promise<LookupPageRun[]> {
  log('(o) seeding three users reaching 1,000, 10,000 and 100,000 chatbots');
  for (const size of LOOKUP_SIZES) await writeTuples(bench.spicedb, tuplesOf(size));
  await sleep(QUANTIZATION_WAIT_MS);
  const one: LoadShape = { ...SHAPE, connections: 1 };
  const runs: LookupPageRun[] = [];
  for (const size of LOOKUP_SIZES) {
    const serviceCursor = await serviceCursorOfPage5(bench, size);
    const directCursor = await directCursorOfPage5(bench, size);
    for (const page of [1, 5] as const) {
      log(`measuring (o) page ${page} of a user reaching ${size} chatbots`);
      const body = JSON.stringify({
        resource_type: 'chatbot',
        permission: 'view',
        subject: { type: 'user', id: userOf(size) },
        limit: PAGE,
        ...(page === 5 && { cursor: serviceCursor }),
      });
      const names = {
        service: `(o) POST /authz/lookup-resources page ${page} of 100, user reaching ${size}`,
        direct: `(o) LookupResources direct, optional_limit 100, page ${page}, user reaching ${size}`,
      };
      const request = lookupRequest(size, page === 5 ? directCursor : undefined);
      runs.push({
        size,
        page,
        service: await bench.recorder.record(measureHttp(names.service, serviceRequest(bench, ROUTE, [body]), one, bench.recorder.cpuProbe(names.service))),
        direct: await bench.recorder.record(
          measureCalls(names.direct, () => bench.spicedb.promises.lookupResources(request, new Metadata(), deadline()), one, bench.recorder.cpuProbe(names.direct)),
        ),
      });
    }
  }
  return runs;
}

/** The aims of (o): the service within 1.5x of direct per size and page, and each page flat (<= 1.5x) per tenfold growth. */
export function lookupPagesAimRows(runs: LookupPageRun[]): string[] {
  const verdict = (met: boolean) => (met ? 'met' : '**MISSED**');
  const rows = runs.map((run) => {
    const ratio = run.service.p50 / run.direct.p50;
    return `| lookup page ${run.page} of 100, ${run.size} reached: p50 <= 1.5x direct | ${run.service.p50.toFixed(2)} ms vs ${run.direct.p50.toFixed(2)} ms: ${ratio.toFixed(2)}x | ${verdict(ratio <= 1.5)} |`;
  });
  for (const page of [1, 5]) {
    const ofPage = runs.filter((run) => run.page === page);
    for (const [smaller, larger] of ofPage.slice(1).map((run, index) => [ofPage[index], run] as const)) {
      if (!smaller || !larger) continue;
      const growth = larger.service.p50 / smaller.service.p50;
      const direct = larger.direct.p50 / smaller.direct.p50;
      rows.push(
        `| lookup page ${page}, ${smaller.size} -> ${larger.size} reached: p50 flat (<= 1.5x) | ${growth.toFixed(2)}x (direct ${direct.toFixed(2)}x) | ${verdict(growth <= 1.5)} |`,
      );
    }
  }
  return rows;
}
