// `npm run policy:validate`: zed validate of schema.zed's own assertions, and of each policy
// module's (`policy/<name>.yaml`, beside `<name>.zed`) against schema.zed composed with every
// module, as the service composes it at boot. POLICY_DIR picks another module folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { readPolicy } from '../src/authz/policy-modules.ts';
import { defaultPolicyDirectory } from '../src/authz/schema.ts';
import { loadConfig } from '../src/config.ts';

const zed = path.join(process.env.TENANT_AUTHZ_TOOLS ?? path.join(homedir(), '.cache/tenant-authz/bin'), 'zed');
const policyDirectory = loadConfig().policyDirectory ?? defaultPolicyDirectory();
const policy = readPolicy(policyDirectory);
const work = mkdtempSync(path.join(tmpdir(), 'tenant-authz-policy-validate-'));
let failed = false;
try {
  const files = ['test/policy/schema.validation.yaml'];
  for (const module of policy.modules) {
    const assertions = path.join(policyDirectory, `${module.name}.yaml`);
    if (!existsSync(assertions)) {
      console.error(`${module.file}: no assertions (${path.relative(process.cwd(), assertions)}): every module ships its own`);
      failed = true;
      continue;
    }
    const document = parse(readFileSync(assertions, 'utf8')) as Record<string, unknown>;
    const composed = path.join(work, `${module.name}.yaml`);
    writeFileSync(composed, stringify({ ...document, schema: policy.composed, schemaFile: undefined }));
    files.push(composed);
  }
  for (const file of files) {
    const run = spawnSync(zed, ['validate', '--fail-on-warn', file], { stdio: 'inherit' });
    if (run.status !== 0) failed = true;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
