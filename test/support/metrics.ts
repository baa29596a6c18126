import type { TestService } from './test-service.ts';

/** Checks the service answered from its decision cache so far (`authz_decision_cache_lookups_total`). */
export async function cacheHits(service: TestService): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  return Number(/^authz_decision_cache_lookups_total\{result="hit"\} (\d+)/m.exec(text)?.[1] ?? 0);
}
