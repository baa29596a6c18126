import type { TestService } from './test-service.ts';

/** SpiceDB's default revision quantization: a read may be evaluated at a revision chosen up to this long before. */
const SPICEDB_QUANTIZATION_MS = 5_000;

/**
 * Waits until an expiry at `moment` must show in every answer: past it by SpiceDB's revision
 * quantization, the decision cache's life for an allow (an expiry cannot turn a cached denial
 * into an allow), and a second of slack (docs/tenant-api.md, "Expiring access"). A wait for correctness, not
 * a timing assertion.
 */
export async function waitUntilExpired(service: TestService, moment: Date): Promise<void> {
  const wait = moment.getTime() - Date.now() + SPICEDB_QUANTIZATION_MS + service.config.spicedb.decisionCache.maxAgeMs + 1_000;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
}
