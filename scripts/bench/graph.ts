import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import type pg from 'pg';

/**
 * The benchmark's tenant graph, generated from indexes so Postgres rows (bulk SQL) and SpiceDB
 * tuples (WriteRelationships) describe the same thing without holding it in memory:
 *
 *   users         10 per organization                      user i        = 10000000-…-<hex i>
 *   organizations                                          organization o = 20000000-…-<hex o>
 *   memberships   50 per organization: member k of org o is user (o*10 + k) mod users,
 *                 k = 0 owner, 1-4 admin, 5-49 member (every user belongs to ~5 organizations)
 *   workspaces    5 per organization (w = o*5 + j)          workspace w   = 30000000-…-<hex w>
 *                 member 5+j is its editor, member 10+j its viewer
 *   chatbots      10 per workspace (c = w*10 + m), SpiceDB only: chatbot:bot_<c>#workspace@workspace:<w>
 *   power user    a member of organizations 0-99 (the list scenario's caller)
 *
 * The graph grows in steps (a 10x smaller one first): organizations [from, to) are added with the
 * user count of the step, so an organization's members never change once written.
 */

export const MEMBERS_PER_ORG = 50;
export const USERS_PER_ORG = 10;
export const WORKSPACES_PER_ORG = 5;
export const CHATBOTS_PER_WORKSPACE = 10;
export const POWER_USER_ORGS = 100;

export interface GraphStep {
  /** Organizations [fromOrg, toOrg) are added; users [10*fromOrg, 10*toOrg). */
  fromOrg: number;
  toOrg: number;
}

const hex12 = (index: number) => index.toString(16).padStart(12, '0');
export const userId = (u: number) => `10000000-0000-4000-8000-${hex12(u)}`;
export const orgId = (o: number) => `20000000-0000-4000-8000-${hex12(o)}`;
export const workspaceId = (w: number) => `30000000-0000-4000-8000-${hex12(w)}`;
export const chatbotId = (c: number) => `bot_${c}`;
export const POWER_USER_ID = '1fffffff-0000-4000-8000-000000000000';
export const POWER_USER_EMAIL = 'bench_power@bench.test';
export const userEmail = (u: number) => `bench_user_${u}@bench.test`;

/** The same expressions in SQL, for generate_series. */
const sqlId = (prefix: string, index: string) => `('${prefix}-0000-4000-8000-' || lpad(to_hex(${index}), 12, '0'))::uuid`;

/** Organizations created in the first step belong to its (smaller) user population. */
export class Graph {
  private readonly steps: GraphStep[];

  constructor(steps: GraphStep[]) {
    this.steps = steps;
  }

  private usersAt(o: number): number {
    const step = this.steps.find((candidate) => o >= candidate.fromOrg && o < candidate.toOrg);
    if (!step) throw new Error(`organization ${o} is in no step`);
    return step.toOrg * USERS_PER_ORG;
  }

  memberUser(o: number, k: number): number {
    return (o * USERS_PER_ORG + k) % this.usersAt(o);
  }

  static role(k: number): 'owner' | 'admin' | 'member' {
    return k === 0 ? 'owner' : k < 5 ? 'admin' : 'member';
  }

  /** Would `user:u` hold chatbot view on chatbot c? (owner/admin of its org, or editor/viewer of its workspace) */
  canViewChatbot(c: number, u: number): boolean {
    const w = Math.floor(c / CHATBOTS_PER_WORKSPACE);
    const o = Math.floor(w / WORKSPACES_PER_ORG);
    const j = w % WORKSPACES_PER_ORG;
    for (const k of [0, 1, 2, 3, 4, 5 + j, 10 + j]) if (this.memberUser(o, k) === u) return true;
    return false;
  }
}

/** Postgres rows of one step, in bulk statements inside one transaction. */
export async function insertRows(client: pg.Client, graph: Graph, step: GraphStep, passwordHash: string, withPowerUser: boolean) {
  const { fromOrg, toOrg } = step;
  const users = toOrg * USERS_PER_ORG;
  await client.query('begin');
  try {
    await client.query(
      `insert into users (id, username, email, password_hash)
       select ${sqlId('10000000', 'i')}, 'bench_user_' || i, 'bench_user_' || i || '@bench.test', $1
       from generate_series($2::int, $3::int - 1) i`,
      [passwordHash, fromOrg * USERS_PER_ORG, users],
    );
    await client.query(
      `insert into organizations (id, name, billing_email, subscription_tier)
       select ${sqlId('20000000', 'o')}, 'Bench organization ' || o, 'billing' || o || '@bench.test', 'enterprise'
       from generate_series($1::int, $2::int - 1) o`,
      [fromOrg, toOrg],
    );
    await client.query(
      `insert into organization_memberships (id, organization_id, user_id, role)
       select gen_random_uuid(), ${sqlId('20000000', 'o')}, ${sqlId('10000000', `((o * ${USERS_PER_ORG} + k) % $3::int)`)},
              (case when k = 0 then 'owner' when k < 5 then 'admin' else 'member' end)::organization_role
       from generate_series($1::int, $2::int - 1) o, generate_series(0, ${MEMBERS_PER_ORG - 1}) k`,
      [fromOrg, toOrg, users],
    );
    await client.query(
      `insert into workspaces (id, organization_id, name, description)
       select ${sqlId('30000000', 'w')}, ${sqlId('20000000', `(w / ${WORKSPACES_PER_ORG})`)}, 'Workspace ' || w, 'bench'
       from generate_series($1::int, $2::int - 1) w`,
      [fromOrg * WORKSPACES_PER_ORG, toOrg * WORKSPACES_PER_ORG],
    );
    await client.query(
      `insert into workspace_memberships (id, workspace_id, user_id, role)
       select gen_random_uuid(), ${sqlId('30000000', 'w')},
              ${sqlId('10000000', `(((w / ${WORKSPACES_PER_ORG}) * ${USERS_PER_ORG} + r.k + w % ${WORKSPACES_PER_ORG}) % $3::int)`)},
              r.role::workspace_role
       from generate_series($1::int, $2::int - 1) w, (values (5, 'editor'), (10, 'viewer')) as r(k, role)`,
      [fromOrg * WORKSPACES_PER_ORG, toOrg * WORKSPACES_PER_ORG, users],
    );
    if (withPowerUser) {
      await client.query(
        `insert into users (id, username, email, password_hash) values ($1, 'bench_power', $2, $3)`,
        [POWER_USER_ID, POWER_USER_EMAIL, passwordHash],
      );
      await client.query(
        `insert into organization_memberships (id, organization_id, user_id, role)
         select gen_random_uuid(), ${sqlId('20000000', 'o')}, $1, 'member' from generate_series(0, ${POWER_USER_ORGS - 1}) o`,
        [POWER_USER_ID],
      );
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

export type Tuple = [resourceType: string, resourceId: string, relation: string, subjectType: string, subjectId: string];

/** Every tuple of one step, lazily. */
export function* stepTuples(graph: Graph, step: GraphStep, withPowerUser: boolean): Generator<Tuple> {
  for (let o = step.fromOrg; o < step.toOrg; o++) {
    for (let k = 0; k < MEMBERS_PER_ORG; k++) {
      yield ['organization', orgId(o), Graph.role(k), 'user', userId(graph.memberUser(o, k))];
    }
    for (let j = 0; j < WORKSPACES_PER_ORG; j++) {
      const w = o * WORKSPACES_PER_ORG + j;
      yield ['workspace', workspaceId(w), 'organization', 'organization', orgId(o)];
      yield ['workspace', workspaceId(w), 'editor', 'user', userId(graph.memberUser(o, 5 + j))];
      yield ['workspace', workspaceId(w), 'viewer', 'user', userId(graph.memberUser(o, 10 + j))];
      for (let m = 0; m < CHATBOTS_PER_WORKSPACE; m++) {
        yield ['chatbot', chatbotId(w * CHATBOTS_PER_WORKSPACE + m), 'workspace', 'workspace', workspaceId(w)];
      }
    }
  }
  if (withPowerUser) {
    for (let o = 0; o < POWER_USER_ORGS; o++) yield ['organization', orgId(o), 'member', 'user', POWER_USER_ID];
  }
}

/** Writes tuples in WriteRelationships batches of 1,000 (CREATE: the datastore is fresh), a few in flight. */
export async function writeTuples(
  client: v1.ZedClientInterface,
  tuples: Iterable<Tuple>,
  options: { batchSize?: number; inFlight?: number } = {},
): Promise<{ written: number; batches: number }> {
  const batchSize = options.batchSize ?? 1_000;
  const iterator = tuples[Symbol.iterator]();
  let written = 0;
  let batches = 0;
  const nextBatch = (): v1.RelationshipUpdate[] => {
    const updates: v1.RelationshipUpdate[] = [];
    while (updates.length < batchSize) {
      const next = iterator.next();
      if (next.done) break;
      const [resourceType, resourceId, relation, subjectType, subjectId] = next.value;
      updates.push(
        v1.RelationshipUpdate.create({
          operation: v1.RelationshipUpdate_Operation.CREATE,
          relationship: v1.Relationship.create({
            resource: v1.ObjectReference.create({ objectType: resourceType, objectId: resourceId }),
            relation,
            subject: v1.SubjectReference.create({
              object: v1.ObjectReference.create({ objectType: subjectType, objectId: subjectId }),
            }),
          }),
        }),
      );
    }
    return updates;
  };
  const lane = async () => {
    for (let updates = nextBatch(); updates.length > 0; updates = nextBatch()) {
      await client.promises.writeRelationships(v1.WriteRelationshipsRequest.create({ updates }), new Metadata(), {
        deadline: new Date(Date.now() + 60_000),
      });
      written += updates.length;
      batches++;
    }
  };
  await Promise.all(Array.from({ length: options.inFlight ?? 4 }, lane));
  return { written, batches };
}
