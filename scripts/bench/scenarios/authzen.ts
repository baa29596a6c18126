// (n) authzen: the AuthZEN 1.0 door beside (a) in the same run. (n) POST /access/v1/evaluation
// asks (a)'s questions, with the key sent bare as PEPs send it; it alternates with (a) A-B-B-A so
// neither is measured colder. (n') POST /access/v1/evaluations with 100 evaluations, beside (c).
import type { Bench } from '../bench.ts';
import { log } from '../infra.ts';
import { meanOfRuns, measureHttp, type HttpScenario, type Measurement } from '../measure.ts';
import { BULK_SHAPE, SHAPE } from '../settings.ts';
import { pick } from '../workload.ts';
import { CHECK_ROUTE } from './service-check.ts';

function pepRequest(bench: Bench, path: string, bodies: string[]): HttpScenario {
  return { baseUrl: bench.service.url, method: 'POST', path, headers: { authorization: bench.serviceKey }, body: () => pick(bodies) };
}

function checkRequest(bench: Bench): HttpScenario {
  return { ...pepRequest(bench, CHECK_ROUTE, bench.workload.checkBodies), headers: { authorization: `Bearer ${bench.serviceKey}` } };
}

export interface AuthZenFindings {
  evaluation: Measurement;
  check: Measurement;
}

export async function authzen(bench: Bench): Promise<AuthZenFindings> {
  log('measuring (n) POST /access/v1/evaluation against (a) POST /authz/check, alternating A-B-B-A');
  const evaluation = (run: number) =>
    measureHttp(`(n) POST /access/v1/evaluation, run ${run}`, pepRequest(bench, '/access/v1/evaluation', bench.workload.evaluationBodies), SHAPE);
  const check = (run: number) => measureHttp(`(a) POST /authz/check beside (n), run ${run}`, checkRequest(bench), SHAPE);
  const evaluations = [await bench.recorder.record(evaluation(1))];
  const checks = [await bench.recorder.record(check(1)), await bench.recorder.record(check(2))];
  evaluations.push(await bench.recorder.record(evaluation(2)));
  const findings = {
    evaluation: meanOfRuns('(n) POST /access/v1/evaluation, mean of runs', evaluations),
    check: meanOfRuns('(a) POST /authz/check beside (n), mean of runs', checks),
  };
  bench.recorder.results.push(findings.evaluation, findings.check);

  log(`measuring (n') POST /access/v1/evaluations, 100 evaluations, at ${BULK_SHAPE.connections} connections`);
  const batch = "(n') POST /access/v1/evaluations, 100 evaluations";
  await bench.recorder.record(
    measureHttp(batch, pepRequest(bench, '/access/v1/evaluations', bench.workload.evaluationsBodies), BULK_SHAPE, bench.recorder.cpuProbe(batch)),
  );
  return findings;
}
