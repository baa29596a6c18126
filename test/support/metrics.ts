import type { TestService } from './test-service.ts';

/** Checks the service answered from its decision cache so far (`authz_decision_cache_lookups_total`). */
export async function cacheHits(service: TestService): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  return Number(/^authz_decision_cache_lookups_total\{result="hit"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

/** SpiceDB calls the service made so far, by method (`spicedb_call_duration_seconds_count`). */
export async function spicedbCalls(service: TestService, method: string): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  const counts = text.matchAll(new RegExp(`^spicedb_call_duration_seconds_count\\{[^}]*method="${method}"[^}]*\\} (\\d+)`, 'gm'));
  return [...counts].reduce((sum, [, count]) => sum + Number(count), 0);
}

/** Password hashes the service computed so far (`password_hashes_total`): `verify` for sign-ins, `hash` for new passwords and rehashes. */
export async function passwordHashes(service: TestService, operation: 'hash' | 'verify'): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  return Number(new RegExp(`^password_hashes_total\\{operation="${operation}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

/** Access tokens accepted so far (`access_token_verifications_total`): `verified` by signature, or `remembered` from an earlier verification. */
export async function tokenVerifications(service: TestService, result: 'verified' | 'remembered'): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  return Number(new RegExp(`^access_token_verifications_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

/** Authorization API calls about a policy module's types so far (`authz_policy_module_calls_total`). */
export async function moduleCalls(service: TestService, module: string, operation: string): Promise<number> {
  const text = await (await service.request('/metrics')).text();
  const pattern = new RegExp(`^authz_policy_module_calls_total\\{(?=[^}]*module="${module}")(?=[^}]*operation="${operation}")[^}]*\\} (\\d+)`, 'm');
  return Number(pattern.exec(text)?.[1] ?? 0);
}
