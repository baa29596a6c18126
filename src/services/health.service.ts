import type { SpiceDbClient } from '../authz/spicedb.client.ts';
import type { Orm } from '../db/orm.ts';

export interface StoreHealth {
  postgres: boolean;
  spicedb: boolean;
}

export class HealthService {
  private readonly orm: Orm;
  private readonly spicedb: SpiceDbClient;

  constructor(
    orm: Orm,
    spicedb: SpiceDbClient,
  ) {
    this.orm = orm;
    this.spicedb = spicedb;
  }

  /** Asks both stores at once; a store that errs or times out counts as down. */
  async readiness(): Promise<StoreHealth> {
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
