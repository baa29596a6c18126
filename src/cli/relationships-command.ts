import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { recordedModuleTuples } from '../authz/module-relationships.ts';
import { ndjsonLine, readRelationshipFile, zedRelationships, type ReadRelationship, type RelationshipFileFormat } from '../authz/relationship-files.ts';
import { tupleKey } from '../authz/relationships.ts';
import type { Relationship } from '../authz/types.ts';
import { ValidationFailed } from '../errors.ts';
import type { ModuleRelationshipService } from '../services/module-relationship.service.ts';
import { operatorImporting } from '../services/module-relationship.service.ts';
import type { Stores } from '../stores.ts';

/**
 * `relationships import|export MODULE`: a policy module's relationships in bulk, by the operator.
 * Import writes as a trusted account of that module would (the same validation and attachment
 * rules as POST /authz/relationships), batch by batch: each batch is one transaction, all or
 * nothing, and a relationship already recorded counts as present, so running it twice changes
 * nothing. Export reads Postgres, the system of record, with the services' own ids.
 */
export const RELATIONSHIPS_USAGE = `       npm run cli -- relationships import MODULE FILE [--format ndjson|zed] [--batch 1000]
       npm run cli -- relationships export MODULE [--format ndjson|zed]`;

/** SpiceDB takes at most 1,000 updates in one write: one batch, one atomic delivery. */
const MAX_BATCH = 1_000;

export interface ImportCounts {
  read: number;
  added: number;
  present: number;
  batches: number;
}

export async function relationshipsCommand(
  args: string[],
  withServices: <T>(run: (stores: Stores, modules: ModuleRelationshipService) => Promise<T>) => Promise<T>,
): Promise<number | null> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'ndjson' }, batch: { type: 'string', default: String(MAX_BATCH) } },
  });
  const [action, module, file] = positionals;
  const format = values.format;
  const batch = Number(values.batch);
  if (!module || (format !== 'ndjson' && format !== 'zed') || !Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) return null;
  if (action === 'import' && file && positionals.length === 3) {
    const read = readRelationshipFile(readFileSync(file, 'utf8'), format);
    const counts = await withServices((stores, modules) => importRelationships(stores, modules, module, read, batch));
    console.log(`${counts.read} relationships read: ${counts.added} added, ${counts.present} already present, in ${counts.batches} batches`);
    return 0;
  }
  if (action === 'export' && positionals.length === 2) {
    await withServices(async ({ orm, policy }) => {
      if (!policy.modules.some((known) => known.name === module)) throw new ValidationFailed([{ field: 'module', message: `${module} is not a policy module` }]);
      const relationships: Relationship[] = [];
      for await (const page of recordedModuleTuples(orm.em.fork(), module)) {
        if (format === 'ndjson') for (const relationship of page) process.stdout.write(`${ndjsonLine(relationship)}\n`);
        else relationships.push(...page);
      }
      if (format === 'zed') process.stdout.write(zedRelationships(relationships));
    });
    return 0;
  }
  return null;
}

/**
 * Batch by batch, in file order. A batch that breaks a rule stops the import with the line of
 * the first relationship at fault; the batches before it stay written (each is all or nothing).
 * With an embedded SpiceDB the grants wait in the outbox for the running service's relay (or
 * the next boot's replay): this process's own SpiceDB is not the one that answers checks.
 */
export async function importRelationships(
  { spicedb }: Stores,
  modules: ModuleRelationshipService,
  module: string,
  read: ReadRelationship[],
  batchSize: number,
): Promise<ImportCounts> {
  const counts: ImportCounts = { read: read.length, added: 0, present: 0, batches: 0 };
  const writer = operatorImporting(module);
  for (let start = 0; start < read.length; start += batchSize) {
    const batch = read.slice(start, start + batchSize);
    const relationships = batch.map((entry) => entry.relationship);
    const distinct = new Set(relationships.map(tupleKey)).size;
    try {
      const { changed } = await modules.write(writer, 'touch', relationships, undefined, { at: 'relationships', deliver: spicedb.mode === 'server' });
      counts.added += changed;
      counts.present += distinct - changed;
      counts.batches += 1;
    } catch (error) {
      if (error instanceof ValidationFailed) {
        const lines = error.errors.map(({ field, message }) => {
          const [, index = '', rest = ''] = /^relationships\.(\d+)\.?(.*)$/.exec(field) ?? [];
          const entry = batch[Number(index)];
          return entry ? `line ${entry.line}: ${rest} ${message}` : `${field} ${message}`;
        });
        throw new ValidationFailed(error.errors, `${error.message} (batch from line ${batch[0]?.line ?? '?'}, nothing of it written): ${lines.join('; ')}`);
      }
      throw error;
    }
  }
  return counts;
}
