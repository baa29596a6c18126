// (g) floor-propagation: a second instance on the same database and SpiceDB. How long until the
// first's write is its floor, and whether a check sent to it the moment the first acknowledges a
// write sees it.
import type { Bench } from '../bench.ts';
import { measurePropagation, type Propagation } from '../freshness.ts';
import { userId, workspaceId } from '../graph.ts';
import { log, startService } from '../infra.ts';
import { PROPAGATION_WRITES } from '../settings.ts';
import { graph } from '../workload.ts';

export async function floorPropagation(bench: Bench): Promise<Propagation> {
  log(`measuring (g) floor propagation between two instances, ${PROPAGATION_WRITES} writes`);
  const second = await startService({ databaseUrl: bench.database.url, spicedb: bench.spicedbServer });
  bench.cleanups.push(() => second.stop());
  const propagation = await measurePropagation({
    first: bench.service.url,
    second: second.url,
    serviceKey: bench.serviceKey,
    workspaceId: workspaceId(0),
    // The owner of organization 0 views every chatbot of its workspaces.
    userId: userId(graph.memberUser(0, 0)),
    count: PROPAGATION_WRITES,
  });
  await second.stop();
  return propagation;
}
