// (b) direct-check: the same pairs as CheckPermission straight to SpiceDB, the baseline for (a).
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import type { Bench } from '../bench.ts';
import { log } from '../infra.ts';
import { measureCalls, type LoadShape, type Measurement } from '../measure.ts';
import { SHAPE, SPICEDB_DEADLINE_MS } from '../settings.ts';
import { pick } from '../workload.ts';

export const minimizeLatency = v1.Consistency.create({ requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true } });
export const subjectOf = (id: string) => v1.SubjectReference.create({ object: v1.ObjectReference.create({ objectType: 'user', objectId: id }) });
export const chatbotOf = (id: string) => v1.ObjectReference.create({ objectType: 'chatbot', objectId: id });
/** The service's own deadline for SpiceDB calls. */
export const deadline = () => ({ deadline: new Date(Date.now() + SPICEDB_DEADLINE_MS) });

/** One check of a pair from the workload, as the service would send it. */
export function checkOnce(bench: Bench) {
  const pair = pick(bench.workload.pairs);
  return bench.spicedb.promises.checkPermission(
    v1.CheckPermissionRequest.create({
      consistency: minimizeLatency,
      resource: chatbotOf(pair.chatbot),
      permission: 'view',
      subject: subjectOf(pair.user),
    }),
    new Metadata(),
    deadline(),
  );
}

export async function directCheck(bench: Bench, run?: number): Promise<Measurement> {
  log(`measuring (b) CheckPermission straight to SpiceDB${run ? `, run ${run}` : ''}`);
  const name = `(b) CheckPermission direct to SpiceDB${run ? `, run ${run}` : ''}`;
  return bench.recorder.record(measureCalls(name, () => checkOnce(bench), SHAPE, bench.recorder.cpuProbe(name)));
}

export async function directCheckAtOneConnection(bench: Bench): Promise<Measurement> {
  const name = '(b) CheckPermission direct to SpiceDB, 1 connection';
  const one: LoadShape = { ...SHAPE, connections: 1 };
  return bench.recorder.record(measureCalls(name, () => checkOnce(bench), one, bench.recorder.cpuProbe(name)));
}
