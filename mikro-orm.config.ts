// Configuration for the MikroORM CLI (creating migrations). The service builds the same options in src/db/orm.ts.
import { loadConfig } from './src/config.ts';
import { ormOptions } from './src/db/orm.ts';

const { database } = loadConfig();
if (database.mode !== 'external') {
  throw new Error('The MikroORM CLI needs DATABASE_URL pointing at a Postgres database');
}

export default ormOptions(database.url);
