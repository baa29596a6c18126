import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Metrics } from '../src/observability/metrics.ts';
import { auditActionsIn } from './support/audit-actions.ts';
import { anchorsOf, documentationPages, documentationText, relativeLinksOf } from './support/docs.ts';
import { runInFreshClone, shellBlocks } from './support/readme.ts';

// README.md is the first hour, and the only page whose shell blocks run; docs/ has the rest, by
// reader. What "the docs" must say may be on any of them.
const README = readFileSync('README.md', 'utf8');
const DOCS = documentationText();

// README's shell blocks, top to bottom, on a fresh clone, against the service they start: each
// must work after the ones before it (test/support/readme.ts says how a block is marked not to
// run). Among them, README's TypeScript client (examples/client.ts), with the service account and
// the signed-in user README's own commands made: one run for both, as a run boots a whole service.
test("README's shell blocks run in order on a fresh clone, and its TypeScript client registers a chatbot on behalf of the signed-in user", async (t) => {
  t.timeout(10 * 60_000);
  const blocks = shellBlocks(README);
  t.is(blocks.filter((block) => block.mode === 'background').length, 1, 'one block starts the service');
  t.true(
    blocks.some((block) => block.mode === 'run' && /node examples\/client\.ts/.test(block.code)),
    'README runs examples/client.ts',
  );
  t.log(`${blocks.filter((block) => block.mode !== 'skip').length} blocks run, ${blocks.filter((block) => block.mode === 'skip').length} marked skip`);

  const { code, stdout, last } = await runInFreshClone(t, blocks);

  t.is(code, 0, `the block at README.md line ${last?.line} failed`);
  t.is(last?.line, blocks.filter((block) => block.mode !== 'skip').at(-1)?.line, 'every block ran');
  // The client's three lines (curl's answers before them end with no newline).
  const uuid = '[0-9a-f-]{36}';
  t.regex(
    stdout,
    new RegExp(
      `verified: user (${uuid}), organization ${uuid}, workspace (${uuid})\\n` +
        'registered: chatbot:(bot_\\w+) in workspace:\\2, for user \\1\\n' +
        'checked: user \\1 may edit chatbot:\\3\\n',
    ),
  );
});

test('the docs name every metric the service exports', async (t) => {
  const own = (await new Metrics().registry.getMetricsAsJSON()).map(({ name }) => name).filter((name) => !/^(process|nodejs)_/.test(name));
  t.true(own.length > 5);
  t.deepEqual(own.filter((name) => !DOCS.includes(`\`${name}`)), []);
});

test("the docs' audit table names every action the code records", (t) => {
  const actions = auditActionsIn('src');
  t.true(actions.size > 30);
  t.deepEqual([...actions].filter((action) => !DOCS.includes(`| \`${action}\``) && !DOCS.includes(`, \`${action}\``)), []);
});

test("every file the docs name exists, and every file of README's layout in the folder it puts it", (t) => {
  const named = [...DOCS.matchAll(/`((?:src|test|scripts|examples)\/[\w./-]+\.(?:ts|cjs|sh|yaml))`/g)].map(([, file = '']) => file);
  const layout = /## Layout\n\n```\n([\s\S]*?)```/.exec(README)?.[1] ?? '';
  let folder = '';
  for (const line of layout.split('\n')) {
    const names = /^( {2})?(\S.*?)(?: {2,}|$)/.exec(line);
    if (!names?.[2]) continue;
    const [first = '', ...rest] = names[2].split(', ');
    if (names[1]) {
      named.push(...[first, ...rest].map((name) => path.join(folder, name)));
      continue;
    }
    if (first.endsWith('/')) folder = first;
    named.push(first, ...rest.map((name) => path.join(path.dirname(first), name)));
  }
  t.true(named.length > 40);
  t.deepEqual(named.filter((file) => !file.includes('<') && !existsSync(file)), []);
});

test('README links every page of docs/, and every relative link of the docs leads to a file and a heading that exist', (t) => {
  const pages = documentationPages();
  t.true(pages.size > 5);
  const linkedFromReadme = new Set(relativeLinksOf(README).map((target) => path.normalize(target.split('#')[0] ?? '')));
  t.deepEqual([...pages.keys()].filter((page) => page !== 'README.md' && !linkedFromReadme.has(page)), []);

  const broken = [...pages].flatMap(([page, markdown]) =>
    relativeLinksOf(markdown).flatMap((target) => {
      const [file = '', anchor] = target.split('#');
      const resolved = file === '' ? page : path.normalize(path.join(path.dirname(page), file));
      if (!existsSync(resolved)) return [`${page}: ${target} (no ${resolved})`];
      if (anchor === undefined || !resolved.endsWith('.md')) return [];
      const anchors = anchorsOf(pages.get(resolved) ?? readFileSync(resolved, 'utf8'));
      return anchors.has(anchor) ? [] : [`${page}: ${target} (no heading #${anchor} in ${resolved})`];
    }),
  );
  t.deepEqual(broken, []);
});
