// The printed report (and the optional JSON) from what the scenarios measured.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { AuthZenFindings } from './scenarios/authzen.ts';
import type { Recorder } from './bench.ts';
import { cpuPerRequest, cpuTotal } from './cpu.ts';
import type { Propagation } from './freshness.ts';
import { CHATBOTS_PER_WORKSPACE, WORKSPACES_PER_ORG } from './graph.ts';
import { toolVersion } from './infra.ts';
import { table, type Measurement } from './measure.ts';
import { auditCostLines, type AuditCost } from './scenarios/audit-cost.ts';
import { customRoleLines, type CustomRoleCost } from './scenarios/custom-role.ts';
import { eventsCostLines, type EventsCost } from './scenarios/events.ts';
import { moduleImportLines, type ModuleImport } from './scenarios/module-import.ts';
import type { HotSet } from './scenarios/hot-set.ts';
import { lookupPagesAimRows, type LookupPageRun } from './scenarios/lookup-pages.ts';
import type { OpenLoop } from './scenarios/open-loop.ts';
import type { ServiceCheck } from './scenarios/service-check.ts';
import { userTokenLines, type UserTokenRun } from './scenarios/user-token.ts';
import type { WarmRun } from './scenarios/warm-spicedb.ts';
import { BULK_SHAPE, SHAPE, TOTAL_ORGS } from './settings.ts';

export interface Findings {
  small: Record<string, number>;
  full: Record<string, number>;
  serviceCheck?: ServiceCheck | undefined;
  directCheck?: Measurement | undefined;
  atOneConnection?: { service: Measurement; direct: Measurement } | undefined;
  listOrganizations?: { small: Measurement; full: Measurement } | undefined;
  consistencyCost: string[];
  propagation?: Propagation | undefined;
  hotSet?: HotSet | undefined;
  warm?: WarmRun[] | undefined;
  openLoop?: OpenLoop | undefined;
  auditCost?: AuditCost | undefined;
  events?: EventsCost | undefined;
  userToken?: UserTokenRun[] | undefined;
  authzen?: AuthZenFindings | undefined;
  lookupPages?: LookupPageRun[] | undefined;
  moduleImport?: ModuleImport | undefined;
  customRole?: CustomRoleCost | undefined;
  runSeconds: number;
}

export function renderReport(findings: Findings, recorder: Recorder): string {
  const { small, full, serviceCheck, directCheck: direct, atOneConnection, listOrganizations: list, propagation } = findings;
  const ours = serviceCheck?.measurement;
  const { p50Ratio, throughputRatio, listRatio } = ratios(findings);
  const out = [
    '',
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ${toolVersion('spicedb')}`,
    `load: ${SHAPE.connections} connections (check-bulk: ${BULK_SHAPE.connections}), ${SHAPE.warmupSeconds} s warm-up + ` +
      `${SHAPE.durationSeconds} s per scenario; checks with no consistency (the read_your_writes default) unless the scenario says otherwise`,
    `small graph: ${JSON.stringify(small)}`,
    `full graph:  ${JSON.stringify(full)} + ${TOTAL_ORGS * WORKSPACES_PER_ORG * CHATBOTS_PER_WORKSPACE} chatbots (SpiceDB only)`,
    '',
    table(recorder.results),
    '',
    ...(serviceCheck && ours && direct
      ? [
          `check, ours vs direct SpiceDB: p50 ${p50Ratio.toFixed(2)}x (aim <= 1.2x: ${p50Ratio <= 1.2 ? 'met' : 'MISSED'}), ` +
            `throughput ${(throughputRatio * 100).toFixed(0)}% (aim >= 80%: ${throughputRatio >= 0.8 ? 'met' : 'MISSED'})`,
          ...(atOneConnection
            ? [
                `at one connection: p50 ${atOneConnection.service.p50.toFixed(2)} ms vs ${atOneConnection.direct.p50.toFixed(2)} ms ` +
                  `(${(atOneConnection.service.p50 / atOneConnection.direct.p50).toFixed(2)}x, +${(atOneConnection.service.p50 - atOneConnection.direct.p50).toFixed(2)} ms)`,
              ]
            : []),
          `inside the service during (a): mean HTTP handling ${serviceCheck.serverMeanMs.toFixed(2)} ms, mean SpiceDB call ` +
            `${serviceCheck.spicedbMeanMs.toFixed(2)} ms, each answering ${serviceCheck.checksPerCall.toFixed(1)} checks the decision cache could not; client-observed mean ${ours.mean.toFixed(2)} ms (direct ${direct.mean.toFixed(2)} ms)`,
        ]
      : []),
    ...(list
      ? [
          `GET /orgs?limit=100 p95: small graph ${list.small.p95.toFixed(2)} ms, full graph (10x) ${list.full.p95.toFixed(2)} ms: ` +
            `${listRatio.toFixed(2)}x (aim flat, <= 1.2x: ${listRatio <= 1.2 ? 'met' : 'MISSED'})`,
        ]
      : []),
    ...findings.consistencyCost,
    ...(findings.hotSet
      ? [
          `(h) decision cache hit rate: ${(findings.hotSet.hitRate.quiet * 100).toFixed(0)}% with no writes, ` +
            `${(findings.hotSet.hitRate.writing * 100).toFixed(0)}% with 1 write per 100 checks`,
        ]
      : []),
    ...(findings.auditCost ? auditCostLines(findings.auditCost) : []),
    ...(findings.events ? eventsCostLines(findings.events) : []),
    ...(findings.userToken ? userTokenLines(findings.userToken) : []),
    ...(findings.moduleImport ? moduleImportLines(findings.moduleImport) : []),
    ...(findings.customRole ? customRoleLines(findings.customRole) : []),
    ...(propagation
      ? [
          `floor propagation between two instances, ${propagation.writes} writes: p50 <= ${propagation.p50Ms} ms, ` +
            `p99 <= ${propagation.p99Ms} ms, max <= ${propagation.maxMs} ms (histogram bucket bounds); ` +
            `${propagation.freshOnOther} of ${propagation.writes} checks sent to the other instance the moment a write was acknowledged saw it`,
        ]
      : []),
    ...(findings.openLoop
      ? [
          `(j) open loop at ${findings.openLoop.ratePerSecond}/s: p50 ${findings.openLoop.service.p50.toFixed(2)} ms vs ${findings.openLoop.direct.p50.toFixed(2)} ms direct, ` +
            `p99 ${findings.openLoop.service.p99.toFixed(2)} ms vs ${findings.openLoop.direct.p99.toFixed(2)} ms`,
        ]
      : []),
    '',
    'Aims (issue 18), ratios of this run:',
    '| aim | measured | verdict |',
    '| --- | --- | --- |',
    ...aimRows(findings, recorder),
    '',
    'CPU time per request (ms), from /proc; 2 cores give 2,000 ms of CPU per second:',
    '| scenario | load generator | service | spicedb | postgres | total |',
    '| --- | --- | --- | --- | --- | --- |',
    ...cpuRows(recorder),
    '',
    `total runtime ${findings.runSeconds.toFixed(0)} s`,
  ];
  return `${out.join('\n')}\n`;
}

export function writeResultsJson(file: string, findings: Findings, recorder: Recorder): void {
  const { p50Ratio, throughputRatio, listRatio } = ratios(findings);
  // A run without (a) reports the means of an empty window, as it always has.
  const serverMean = findings.serviceCheck?.serverMeanMs ?? 0;
  const spicedbMean = findings.serviceCheck?.spicedbMeanMs ?? 0;
  const { small, full, propagation, auditCost, runSeconds } = findings;
  writeFileSync(
    file,
    JSON.stringify(
      { shape: SHAPE, bulkShape: BULK_SHAPE, small, full, results: recorder.results, p50Ratio, throughputRatio, listRatio, serverMean, spicedbMean, propagation, auditCost, runSeconds },
      null,
      2,
    ),
  );
}

function ratios({ serviceCheck, directCheck, listOrganizations }: Findings) {
  const ours = serviceCheck?.measurement;
  return {
    p50Ratio: ours && directCheck ? ours.p50 / directCheck.p50 : Number.NaN,
    throughputRatio: ours && directCheck ? ours.rps / directCheck.rps : Number.NaN,
    listRatio: listOrganizations ? listOrganizations.full.p95 / listOrganizations.small.p95 : Number.NaN,
  };
}

const verdict = (met: boolean) => (met ? 'met' : '**MISSED**');
const times = (ratio: number) => `${ratio.toFixed(2)}x`;
const share = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;

/** Every aim of the check path that this run measured, as met or MISSED with its ratio. */
function aimRows(findings: Findings, recorder: Recorder): string[] {
  const rows: string[] = [];
  const { serviceCheck, directCheck, hotSet, warm, listOrganizations, authzen } = findings;
  if (authzen) {
    const p50 = authzen.evaluation.p50 / authzen.check.p50;
    const rps = authzen.evaluation.rps / authzen.check.rps;
    rows.push(`| AuthZEN evaluation: p50 within 10% of /authz/check | ${times(p50)} | ${verdict(p50 <= 1.1)} |`);
    rows.push(`| AuthZEN evaluation: throughput within 10% of /authz/check | ${share(rps)} | ${verdict(rps >= 0.9)} |`);
  }
  if (serviceCheck && directCheck) {
    const p50 = serviceCheck.measurement.p50 / directCheck.p50;
    const rps = serviceCheck.measurement.rps / directCheck.rps;
    rows.push(`| Postgres datastore, 16 connections: p50 <= 1.2x direct | ${times(p50)} | ${verdict(p50 <= 1.2)} |`);
    rows.push(`| Postgres datastore, 16 connections: throughput >= 80% of direct | ${share(rps)} | ${verdict(rps >= 0.8)} |`);
  }
  for (const run of warm ?? []) {
    const p50 = run.service.p50 / run.direct.p50;
    const rps = run.service.rps / run.direct.rps;
    const uncached = `(no decision cache: ${times(run.uncached.p50 / run.direct.p50)} p50, ${share(run.uncached.rps / run.direct.rps)} throughput)`;
    if (run.connections === 1) rows.push(`| warm SpiceDB, 1 connection: p50 <= 1.5x direct | ${times(p50)} ${uncached} | ${verdict(p50 <= 1.5)} |`);
    else rows.push(`| warm SpiceDB, ${run.connections} connections: throughput >= 60% of direct | ${share(rps)} ${uncached} | ${verdict(rps >= 0.6)} |`);
  }
  if (hotSet) {
    const p50 = hotSet.service.p50 / hotSet.direct.p50;
    const rps = hotSet.service.rps / hotSet.direct.rps;
    const writing = hotSet.writing.rps / hotSet.direct.rps;
    rows.push(`| hot set: p50 below direct | ${times(p50)} | ${verdict(p50 < 1)} |`);
    rows.push(`| hot set: throughput above direct | ${share(rps)} | ${verdict(rps > 1)} |`);
    rows.push(`| hot set, 1 write / 100 checks: throughput still above direct | ${share(writing)} | ${verdict(writing > 1)} |`);
    const writingBoth = hotSet.writing.rps / hotSet.directWriting.rps;
    rows.push(`| (context) the same, against direct with the same writes going on | ${share(writingBoth)} | ${writingBoth > 1 ? 'above' : 'below'} |`);
    rows.push(
      `| hot set, 1 write / 100 checks: no stale answer | ${hotSet.staleAnswers} stale of ${hotSet.writesChecked} checked right after a write | ${verdict(hotSet.staleAnswers === 0 && hotSet.writesChecked > 0)} |`,
    );
  }
  const list = listOrganizations && recorder.cpu.get(listOrganizations.full.scenario);
  if (listOrganizations && list) {
    const serviceMs = cpuPerRequest(list.before, list.after, listOrganizations.full.requests).service;
    rows.push(`| GET /orgs?limit=100, 100 orgs: service CPU <= 3 ms per request | ${serviceMs.toFixed(2)} ms | ${verdict(serviceMs <= 3)} |`);
  }
  rows.push(...lookupPagesAimRows(findings.lookupPages ?? []));
  return rows;
}

function cpuRows(recorder: Recorder): string[] {
  return recorder.results.flatMap((measurement) => {
    const sampled = recorder.cpu.get(measurement.scenario);
    if (!sampled) return [];
    const perRequest = cpuPerRequest(sampled.before, sampled.after, measurement.requests);
    const cells = [perRequest.bench, perRequest.service, perRequest.spicedb, perRequest.postgres, cpuTotal(perRequest)];
    return [`| ${measurement.scenario} | ${cells.map((value) => value.toFixed(2)).join(' | ')} |`];
  });
}
