import type { SpiceDbClient } from '../authz/spicedb.client.js';
import type { Orm } from '../db/orm.js';

export interface StoreHealth {
  postgres: boolean;
  spicedb: boolean;
}

export class HealthService {
  constructor(
    private readonly orm: Orm,
    private readonly spicedb: SpiceDbClient,
  ) {}

  /** Asks both stores at once; a store that errs or times out counts as down. */
  async check(): Promise<StoreHealth> {
    const [postgres, spicedb] = await Promise.all([
      this.orm.checkConnection().then(
        (result) => result.ok,
        () => false,
      ),
      this.spicedb.isReachable(),
    ]);
    return { postgres, spicedb };
  }
}
