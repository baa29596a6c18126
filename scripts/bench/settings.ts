// The run's settings, from the environment (see the header of run.ts), and which scenarios it runs.
import type { GraphStep } from './graph.ts';
import type { LoadShape } from './measure.ts';

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

export const SHAPE: LoadShape = {
  connections: Math.round(positive('BENCH_CONNECTIONS', 16)),
  durationSeconds: positive('BENCH_DURATION_SECONDS', 8),
  warmupSeconds: positive('BENCH_WARMUP_SECONDS', 2),
};
/**
 * check-bulk carries 100 checks a request: at 16 connections (1,600 checks in flight) SpiceDB on
 * this machine answers each bulk call in about 2.2 s, past the service's 2 s SpiceDB deadline, so
 * nearly every request is a 503. Two connections kept it inside the deadline until a slower
 * machine (direct p95 1.41 s) saw 2 of 12 calls pass it; one connection does.
 */
export const BULK_SHAPE: LoadShape = { ...SHAPE, connections: Math.round(positive('BENCH_BULK_CONNECTIONS', 1)) };
/** The password of every seeded user. */
export const PASSWORD = 'bench-password-1';
/** Writes per 100 checks in the mixed runs of consistency-cost. */
export const WRITES_PER_100_CHECKS = 1;
/** Registrations on one instance, each checked at once on another, in floor-propagation. */
export const PROPAGATION_WRITES = 200;
export const SMALL: GraphStep = { fromOrg: 0, toOrg: 100 };
export const FULL: GraphStep = { fromOrg: 100, toOrg: 1_000 };
export const TOTAL_ORGS = FULL.toOrg;
/** SpiceDB's default revision quantization (5 s, +10%): minimize_latency reads may lag a write by this much. */
export const QUANTIZATION_WAIT_MS = 6_000;
/** Above this share of failed requests a scenario fails the run. */
export const MAX_ERROR_RATE = 0.01;
/**
 * Checks per second in the open-loop scenario: half of the rate that saturates this kind of 2-core
 * machine through the service (150/s: about 13 ms of CPU per check across every process; see
 * BENCHMARKS.md), so it measures latency under load, not a queue.
 */
export const OPEN_LOOP_RATE = positive('BENCH_OPEN_LOOP_RATE', 75);
/** The service's SPICEDB_TIMEOUT_MS default: direct calls get the same deadline. */
export const SPICEDB_DEADLINE_MS = 2_000;

/** Every scenario, in the order they run, with the letter earlier reports (and BENCHMARKS.md) use. */
export const SCENARIOS = {
  'service-check': 'a',
  'direct-check': 'b',
  'bulk-check': 'c',
  'list-organizations': 'd',
  'lookup-resources': 'e',
  'consistency-cost': 'f',
  'floor-propagation': 'g',
  'hot-set': 'h',
  'warm-spicedb': 'i',
  'open-loop': 'j',
  'audit-cost': 'k',
  events: 'l',
  'user-token': 'm',
  authzen: 'n',
  'lookup-pages': 'o',
  'module-import': 'p',
  'custom-role': 'q',
} as const;
export type ScenarioName = keyof typeof SCENARIOS;

/** Scenarios that make their own data: a run of only these skips seeding the graph. */
export const WITHOUT_GRAPH: ReadonlySet<ScenarioName> = new Set(['events', 'user-token', 'lookup-pages', 'module-import', 'custom-role']);

/** BENCH_ONLY=service-check,direct-check (or the letters, a,b) limits the run to those scenarios; the default is all. */
export function selectedScenarios(only = process.env.BENCH_ONLY): Set<ScenarioName> {
  const names = Object.keys(SCENARIOS) as ScenarioName[];
  if (!only) return new Set(names);
  return new Set(
    only.split(',').map((entry) => {
      const wanted = entry.trim();
      const name = names.find((candidate) => candidate === wanted || SCENARIOS[candidate] === wanted);
      if (!name) throw new Error(`BENCH_ONLY: no scenario "${wanted}"; the scenarios are ${names.map((n) => `${n} (${SCENARIOS[n]})`).join(', ')}`);
      return name;
    }),
  );
}
