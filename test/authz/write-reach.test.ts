import test from 'ava';
import { readSchema } from '../../src/authz/schema.ts';
import { decodeReach, encodeReach, leafTypesOf, reachOfFilter, reachOfUpdates, WHOLE_GRAPH } from '../../src/authz/write-reach.ts';
import type { RelationshipUpdate } from '../../src/authz/types.ts';

const leafTypes = leafTypesOf(readSchema());
const touch = (type: string, id: string): RelationshipUpdate => ({
  operation: 'touch',
  relationship: { resource: { type, id }, relation: 'viewer', subject: { type: 'user', id: 'u1' } },
});

test("the schema's leaves are the types no relation takes as a subject: the other services' resources", (t) => {
  t.deepEqual([...leafTypes].sort(), ['chatbot', 'knowledge_base']);
});

test('a type named anywhere in another definition is no leaf, even where the relation parser does not look', (t) => {
  const schema = `
    definition user {}
    definition doc {
      relation viewer: user
    }
    definition folder {
      relation viewer: user |
        doc
    }`;
  t.deepEqual([...leafTypesOf(schema)].sort(), ['folder'], 'doc is a subject on a continuation line');
});

test('a write to leaf objects reaches those objects only; one touching any other type reaches the whole graph', (t) => {
  t.deepEqual(reachOfUpdates([touch('chatbot', 'b1'), touch('chatbot', 'b1'), touch('knowledge_base', 'k1')], leafTypes), {
    kind: 'objects',
    objects: ['chatbot:b1', 'knowledge_base:k1'],
  });
  t.deepEqual(reachOfUpdates([touch('chatbot', 'b1'), touch('workspace', 'w1')], leafTypes), WHOLE_GRAPH);
  t.deepEqual(reachOfUpdates([touch('team', 't1')], leafTypes), WHOLE_GRAPH);
});

test('a deletion by filter stays within one object only when the filter names a leaf object', (t) => {
  t.deepEqual(reachOfFilter({ resourceType: 'chatbot', resourceId: 'b1', subject: { type: 'user' } }, leafTypes), { kind: 'objects', objects: ['chatbot:b1'] });
  t.deepEqual(reachOfFilter({ resourceType: 'chatbot' }, leafTypes), WHOLE_GRAPH);
  t.deepEqual(reachOfFilter({ resourceType: 'chatbot', resourceId: '' }, leafTypes), WHOLE_GRAPH, 'an empty id is every chatbot');
  t.deepEqual(reachOfFilter({ resourceType: 'workspace', resourceId: 'w1' }, leafTypes), WHOLE_GRAPH);
});

test('a reach travels between instances intact, and anything unreadable reads as the whole graph', (t) => {
  const reach = { kind: 'objects' as const, objects: ['chatbot:b1', 'knowledge_base:k/1'] };
  t.deepEqual(decodeReach(encodeReach(reach)), reach);
  t.deepEqual(decodeReach(encodeReach(WHOLE_GRAPH)), WHOLE_GRAPH);
  t.deepEqual(decodeReach(undefined), WHOLE_GRAPH, "an older instance's announcement");
  t.deepEqual(decodeReach('chatbot:b1,garbage'), WHOLE_GRAPH);
  const many = { kind: 'objects' as const, objects: Array.from({ length: 2_000 }, (_, index) => `chatbot:bot_${index}`) };
  t.deepEqual(decodeReach(encodeReach(many)), WHOLE_GRAPH, 'too long for one NOTIFY');
});
