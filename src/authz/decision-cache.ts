import type { DecisionCacheConfig } from '../config.ts';
import type { CheckResult, PermissionQuery } from './types.ts';

interface Entry {
  result: CheckResult;
  /** The floor's epoch the decision was computed in (see FreshnessFloor.cacheEpoch). */
  epoch: number;
  storedAt: number;
}

/**
 * Check decisions, each valid only in the floor epoch it was computed in: any write this instance
 * makes or hears of starts a new epoch and retires every entry, so a cached allow never outlives
 * a revocation the service acknowledged (coarse, and it cannot lie). Bounded by size (oldest out
 * first) and by age. Only requests that accept the floor's freshness may use it; an explicit
 * ZedToken or `fully_consistent` always goes to SpiceDB.
 */
export class DecisionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly config: DecisionCacheConfig;

  constructor(config: DecisionCacheConfig) {
    this.config = config;
  }

  get(query: PermissionQuery, epoch: number | null): CheckResult | undefined {
    if (epoch === null || this.config.entries === 0) return undefined;
    const key = keyOf(query);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.epoch !== epoch || Date.now() - entry.storedAt > this.config.maxAgeMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.result;
  }

  set(query: PermissionQuery, epoch: number | null, result: CheckResult): void {
    if (epoch === null || this.config.entries === 0) return;
    const key = keyOf(query);
    this.entries.delete(key);
    this.entries.set(key, { result, epoch, storedAt: Date.now() });
    if (this.entries.size > this.config.entries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

function keyOf({ resource, permission, subject }: PermissionQuery): string {
  return `${resource.type}:${resource.id}#${permission}@${subject.type}:${subject.id}${subject.relation ? `#${subject.relation}` : ''}`;
}
