import type { DecisionCacheConfig } from '../config.ts';
import type { CheckResult, PermissionQuery } from './types.ts';
import { objectKey, type WriteReach } from './write-reach.ts';

interface Entry {
  result: CheckResult;
  /** The object whose permission was checked, as `objectKey` names it. */
  object: string;
  /** `Date.now()` past which the entry no longer answers. */
  expiresAt: number;
}

// Past this many objects remembered as retired, in-flight answers are refused wholesale instead.
const RETIRED_OBJECTS = 4_096;

/**
 * Check decisions made at the read-your-writes floor, kept until a write that can change them.
 * Every write this instance makes or hears of retires what it reaches (write-reach.ts): a write
 * to a few leaf objects retires the decisions about those objects, any other write retires all.
 * So a cached allow never outlives a revocation the service acknowledged, while a service
 * registering chatbots does not empty the cache of everyone else's checks. An answer that was
 * in flight when a write reached its object is not stored: it may predate the write.
 * Bounded by size (oldest out first) and by age. An allow lives `DECISION_CACHE_MAX_AGE_MS`, which
 * adds to how late a relationship's expiry can show (docs/tenant-api.md, "Expiring access"). A denial lives
 * `DECISION_CACHE_DENIAL_MAX_AGE_MS` where the schema lets time only take access away
 * (`timeOnlyRevokes`): no expiry can turn it into an allow, only a write, and writes retire it.
 * Only requests that accept the floor's freshness use it; an explicit ZedToken or
 * `fully_consistent` always goes to SpiceDB.
 */
export class DecisionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByObject = new Map<string, Set<string>>();
  /** Counts retirements; `retirementMark` hands out the count, `set` compares against it. */
  private retirements = 0;
  /** The count after the last retirement that reached everything (or forgot which objects). */
  private graphRetiredAt = 0;
  private readonly objectRetiredAt = new Map<string, number>();
  private readonly config: DecisionCacheConfig;
  private readonly timeOnlyRevokes: () => boolean;

  /** `timeOnlyRevokes`: whether the schemas in force let time only revoke (FreshnessFloor.timeOnlyRevokes). */
  constructor(config: DecisionCacheConfig, timeOnlyRevokes: () => boolean) {
    this.config = config;
    this.timeOnlyRevokes = timeOnlyRevokes;
  }

  /** Taken before SpiceDB is asked; `set` keeps the answer only if no write reached it since. */
  retirementMark(): number {
    return this.retirements;
  }

  get(query: PermissionQuery): CheckResult | undefined {
    if (this.config.entries === 0) return undefined;
    const key = keyOf(query);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (Date.now() > entry.expiresAt) {
      this.remove(key, entry.object);
      return undefined;
    }
    return entry.result;
  }

  set(query: PermissionQuery, mark: number, result: CheckResult): void {
    if (this.config.entries === 0) return;
    const object = objectKey(query.resource);
    if (this.graphRetiredAt > mark || (this.objectRetiredAt.get(object) ?? 0) > mark) return;
    const key = keyOf(query);
    this.remove(key, object);
    const lifetime = result.allowed || !this.timeOnlyRevokes() ? this.config.maxAgeMs : this.config.denialMaxAgeMs;
    this.entries.set(key, { result, object, expiresAt: Date.now() + lifetime });
    let keys = this.keysByObject.get(object);
    if (!keys) this.keysByObject.set(object, (keys = new Set()));
    keys.add(key);
    if (this.entries.size > this.config.entries) {
      const [oldestKey, oldest] = this.entries.entries().next().value ?? [];
      if (oldestKey !== undefined && oldest) this.remove(oldestKey, oldest.object);
    }
  }

  retire(reach: WriteReach): void {
    this.retirements++;
    if (reach.kind === 'graph') {
      this.refuseEveryAnswerInFlight();
      this.entries.clear();
      this.keysByObject.clear();
      return;
    }
    if (this.objectRetiredAt.size + reach.objects.length > RETIRED_OBJECTS) this.refuseEveryAnswerInFlight();
    else for (const object of reach.objects) this.objectRetiredAt.set(object, this.retirements);
    for (const object of reach.objects) {
      for (const key of this.keysByObject.get(object) ?? []) this.entries.delete(key);
      this.keysByObject.delete(object);
    }
  }

  /** Whatever it was about: also the way to forget which objects were retired. */
  private refuseEveryAnswerInFlight(): void {
    this.graphRetiredAt = this.retirements;
    this.objectRetiredAt.clear();
  }

  private remove(key: string, object: string): void {
    if (!this.entries.delete(key)) return;
    const keys = this.keysByObject.get(object);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByObject.delete(object);
  }
}

function keyOf({ resource, permission, subject }: PermissionQuery): string {
  return `${resource.type}:${resource.id}#${permission}@${subject.type}:${subject.id}${subject.relation ? `#${subject.relation}` : ''}`;
}
