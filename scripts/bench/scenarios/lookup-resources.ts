// (e) lookup-resources: POST /authz/lookup-resources (chatbot, view, limit 100) for a random
// organization owner or admin.
import { serviceRequest, type Bench } from '../bench.ts';
import { log } from '../infra.ts';
import { measureHttp } from '../measure.ts';
import { SHAPE } from '../settings.ts';

export async function lookupResources(bench: Bench): Promise<void> {
  log('measuring (e) POST /authz/lookup-resources');
  const name = '(e) POST /authz/lookup-resources chatbot, limit 100';
  await bench.recorder.record(measureHttp(name, serviceRequest(bench, '/api/v1/authz/lookup-resources', bench.workload.lookupBodies), SHAPE, bench.recorder.cpuProbe(name)));
}
