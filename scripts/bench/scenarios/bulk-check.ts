// (c) bulk-check: POST /authz/check-bulk with 100 items, and (c') the same as CheckBulkPermissions
// straight to SpiceDB, both at BULK_SHAPE's few connections.
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { serviceRequest, type Bench } from '../bench.ts';
import { log } from '../infra.ts';
import { measureCalls, measureHttp } from '../measure.ts';
import { BULK_SHAPE } from '../settings.ts';
import { pick } from '../workload.ts';
import { chatbotOf, deadline, minimizeLatency, subjectOf } from './direct-check.ts';

export async function bulkCheck(bench: Bench): Promise<void> {
  log(`measuring (c) POST /authz/check-bulk at ${BULK_SHAPE.connections} connections, and the same straight to SpiceDB`);
  const viaService = '(c) POST /authz/check-bulk, 100 items';
  await bench.recorder.record(
    measureHttp(viaService, serviceRequest(bench, '/api/v1/authz/check-bulk', bench.workload.bulkBodies), BULK_SHAPE, bench.recorder.cpuProbe(viaService)),
  );
  const direct = "(c') CheckBulkPermissions 100 items direct to SpiceDB";
  const bulkOnce = () =>
    bench.spicedb.promises.checkBulkPermissions(
      v1.CheckBulkPermissionsRequest.create({
        consistency: minimizeLatency,
        items: Array.from({ length: 100 }, () => {
          const pair = pick(bench.workload.pairs);
          return v1.CheckBulkPermissionsRequestItem.create({ resource: chatbotOf(pair.chatbot), permission: 'view', subject: subjectOf(pair.user) });
        }),
      }),
      new Metadata(),
      deadline(),
    );
  await bench.recorder.record(measureCalls(direct, bulkOnce, BULK_SHAPE, bench.recorder.cpuProbe(direct)));
}
