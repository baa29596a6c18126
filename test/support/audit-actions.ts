import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Every audit action named in the sources under `folder` (`'org.member.added'`, `'webhook_endpoint.deleted'`, ...). */
export function auditActionsIn(folder: string): Set<string> {
  const actions = new Set<string>();
  for (const file of readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(path.join(folder, file), 'utf8');
    for (const [, action = ''] of source.matchAll(/'((?:org|workspace|team|resource|module|service_account|session|user|webhook_endpoint)(?:\.[a-z_]+)+)'/g)) {
      actions.add(action);
    }
  }
  return actions;
}
