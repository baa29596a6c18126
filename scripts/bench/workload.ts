// The seeded graph and the requests the scenarios send over it: the same pseudo-random pairs and
// bodies on every run.
import { CHATBOTS_PER_WORKSPACE, Graph, MEMBERS_PER_ORG, USERS_PER_ORG, WORKSPACES_PER_ORG, chatbotId, stepTuples, userId } from './graph.ts';
import { FULL, SMALL, TOTAL_ORGS } from './settings.ts';

export const graph = new Graph([SMALL, FULL]);

/** mulberry32: the same pseudo-random sequence on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(20261125);
export const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const below = (n: number) => Math.floor(rand() * n);

export interface CheckPair {
  chatbot: string;
  user: string;
  expected: boolean;
}

/**
 * (chatbot, user) pairs over the full graph: a third entitled (owner, admin, or the workspace's
 * editor/viewer), a third plain members of the owning organization, a third any user.
 */
function checkPairs(count: number): CheckPair[] {
  const chatbots = TOTAL_ORGS * WORKSPACES_PER_ORG * CHATBOTS_PER_WORKSPACE;
  const users = TOTAL_ORGS * USERS_PER_ORG;
  return Array.from({ length: count }, (_, index) => {
    const c = below(chatbots);
    const w = Math.floor(c / CHATBOTS_PER_WORKSPACE);
    const o = Math.floor(w / WORKSPACES_PER_ORG);
    const j = w % WORKSPACES_PER_ORG;
    const u =
      index % 3 === 0
        ? graph.memberUser(o, pick([0, 1, 2, 3, 4, 5 + j, 10 + j]))
        : index % 3 === 1
          ? graph.memberUser(o, 15 + below(35))
          : below(users);
    return { chatbot: chatbotId(c), user: userId(u), expected: graph.canViewChatbot(c, u) };
  });
}

export const checkItem = (pair: CheckPair) => ({
  resource: { type: 'chatbot', id: pair.chatbot },
  permission: 'chatbot:view',
  subject: { type: 'user', id: pair.user },
});

/** The same question in AuthZEN 1.0's words (POST /access/v1/evaluation). */
export const evaluationOf = (pair: CheckPair) => ({
  subject: { type: 'user', id: pair.user },
  action: { name: 'view' },
  resource: { type: 'chatbot', id: pair.chatbot },
});

export interface Workload {
  pairs: CheckPair[];
  /** POST /authz/check bodies with no consistency (the read_your_writes default). */
  checkBodies: string[];
  minimizeLatencyBodies: string[];
  /** POST /authz/check-bulk bodies of 100 items. */
  bulkBodies: string[];
  /** POST /authz/lookup-resources bodies for organization owners and admins. */
  lookupBodies: string[];
  /** POST /access/v1/evaluation bodies: checkBodies' questions, in order. */
  evaluationBodies: string[];
  /** POST /access/v1/evaluations bodies of 100 evaluations. */
  evaluationsBodies: string[];
}

/** Drawn in this order from the one seeded sequence, so every run sends the same requests. */
export function createWorkload(): Workload {
  const pairs = checkPairs(20_000);
  return {
    pairs,
    checkBodies: pairs.map((pair) => JSON.stringify(checkItem(pair))),
    minimizeLatencyBodies: pairs.map((pair) => JSON.stringify({ ...checkItem(pair), consistency: 'minimize_latency' })),
    bulkBodies: Array.from({ length: 500 }, () => JSON.stringify({ items: Array.from({ length: 100 }, () => checkItem(pick(pairs))) })),
    lookupBodies: Array.from({ length: 2_000 }, () => {
      // Owners and admins (u mod 10 < 5) of an organization: each reaches 50-100 chatbots.
      const u = below(TOTAL_ORGS) * USERS_PER_ORG + below(5);
      return JSON.stringify({ resource_type: 'chatbot', permission: 'view', subject: { type: 'user', id: userId(u) }, limit: 100 });
    }),
    // Drawn last, so the bodies before are those of earlier runs.
    evaluationBodies: pairs.map((pair) => JSON.stringify(evaluationOf(pair))),
    evaluationsBodies: Array.from({ length: 500 }, () => JSON.stringify({ evaluations: Array.from({ length: 100 }, () => evaluationOf(pick(pairs))) })),
  };
}

/** The first organization alone: what the warm-SpiceDB scenario seeds on its memory datastore. */
const FIRST_ORGANIZATION = { fromOrg: 0, toOrg: 1 };

export function oneOrganizationTuples() {
  return stepTuples(graph, FIRST_ORGANIZATION, false);
}

/** Every (chatbot, member) pair of the first organization. */
export function oneOrganizationPairs(): CheckPair[] {
  const chatbots = Array.from({ length: WORKSPACES_PER_ORG * CHATBOTS_PER_WORKSPACE }, (_, c) => c);
  const members = Array.from({ length: MEMBERS_PER_ORG }, (_, k) => graph.memberUser(0, k));
  return chatbots.flatMap((c) => members.map((u) => ({ chatbot: chatbotId(c), user: userId(u), expected: graph.canViewChatbot(c, u) })));
}
