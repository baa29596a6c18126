import { hashSecretToken, newSecretToken } from './secret-tokens.ts';
import { appendSubjectAuditEvent, OPERATOR, type AuditEntry } from '../audit/audit-log.ts';
import { TENANT_OWNED_TYPES } from '../authz/relationships.ts';
import { isModuleType } from '../authz/object-ids.ts';
import type { SchemaModel } from '../authz/schema.ts';
import type { Policy } from '../authz/policy-modules.ts';
import { LockMode } from '@mikro-orm/core';
import { Organization, ServiceAccount } from '../db/entities/index.ts';
import { isCanonicalUuid } from '../db/ids.ts';
import type { Orm } from '../db/orm.ts';
import { Conflict, NotFound, ValidationFailed } from '../errors.ts';

const KEY_PREFIX = 'tak_';

export interface CreatedServiceAccount {
  account: ServiceAccount;
  /** Shown once: only its hash is stored. */
  key: string;
}

export function isServiceAccountKey(credential: string): boolean {
  return credential.startsWith(KEY_PREFIX);
}

/**
 * Service accounts of the platform's other services. Verified keys are remembered for
 * `cacheSeconds`, so the check path does not pay a Postgres round trip per request; a
 * revocation therefore takes effect on every instance within that bound.
 */
export class ServiceAccountService {
  private readonly verified = new Map<string, { account: ServiceAccount; until: number }>();

  private readonly orm: Orm;
  private readonly schema: SchemaModel;
  private readonly policy: Policy;
  private readonly cacheSeconds: number;

  constructor(
    orm: Orm,
    policy: Policy,
    cacheSeconds: number,
  ) {
    this.orm = orm;
    this.policy = policy;
    this.schema = policy.model;
    this.cacheSeconds = cacheSeconds;
  }

  /** For administration (the CLI, scripts, tests): checked against the policy the stores wrote, nothing cached. */
  static forAdministration(orm: Orm, policy: Policy): ServiceAccountService {
    return new ServiceAccountService(orm, policy, 0);
  }

  /**
   * Made by an operator (the CLI), outside any request. `trusted`: may write without naming the
   * user it acts for (backfills). `setsSubscriptionTiers`: may set organizations' tiers (a billing
   * system). `organizationIds`: the organizations it is limited to (absent: all). `modules`: the
   * policy modules whose relationships it writes.
   */
  async create(
    name: string,
    writableTypes: string[],
    options: { trusted?: boolean; setsSubscriptionTiers?: boolean; organizationIds?: string[]; modules?: string[] } = {},
  ): Promise<CreatedServiceAccount> {
    // A module's types are written through its own accounts (`modules`), never as writable types.
    const unknown = writableTypes.filter((type) => !this.schema.has(type) || TENANT_OWNED_TYPES.has(type) || isModuleType(type));
    if (unknown.length > 0) {
      throw new ValidationFailed(
        [{ field: 'writable_types', message: `cannot include ${unknown.join(', ')}` }],
        'Service accounts may write only the types other services own',
      );
    }
    const modules = [...new Set(options.modules ?? [])].sort();
    const unknownModules = modules.filter((module) => !this.policy.modules.some((known) => known.name === module));
    if (unknownModules.length > 0) {
      const known = this.policy.modules.map((module) => module.name).join(', ') || 'none';
      throw new ValidationFailed([{ field: 'modules', message: `${unknownModules.join(', ')} are not policy modules (known: ${known})` }]);
    }
    const em = this.orm.em.fork();
    if (await em.findOne(ServiceAccount, { name })) throw new Conflict(`A service account named ${name} exists`);
    const key = `${KEY_PREFIX}${newSecretToken()}`;
    const account = new ServiceAccount(name, hashSecretToken(key), [...new Set(writableTypes)].sort());
    account.modules = modules;
    account.trusted = options.trusted ?? false;
    account.setsSubscriptionTiers = options.setsSubscriptionTiers ?? false;
    if (options.organizationIds) {
      const organizationIds = [...new Set(options.organizationIds.map((id) => id.toLowerCase()))].sort();
      const known = await em.find(Organization, { id: { $in: organizationIds.filter(isCanonicalUuid) } }, { fields: ['id'] });
      const unknownIds = organizationIds.filter((id) => !known.some((organization) => organization.id === id));
      if (unknownIds.length > 0) throw new ValidationFailed([{ field: 'organizations', message: `${unknownIds.join(', ')} are not organizations` }]);
      account.organizationIds = organizationIds;
    }
    await em.transactional(async (tx) => {
      tx.persist(account);
      await appendSubjectAuditEvent(
        tx,
        accountEvent(account, 'service_account.created', {
          name: [null, account.name],
          writable_types: [null, account.writableTypes],
          modules: [null, account.modules],
          trusted: [null, account.trusted],
          sets_subscription_tiers: [null, account.setsSubscriptionTiers],
          organization_ids: [null, account.organizationIds],
        }),
      );
    });
    return { account, key };
  }

  async list(): Promise<ServiceAccount[]> {
    return this.orm.em.fork().find(ServiceAccount, {}, { orderBy: { createdAt: 'asc' } });
  }

  async revoke(id: string): Promise<ServiceAccount> {
    const unknown = new NotFound(`No service account has id ${id}`);
    if (!isCanonicalUuid(id)) throw unknown;
    return this.orm.em.fork().transactional(async (em) => {
      const account = await em.findOne(ServiceAccount, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!account) throw unknown;
      // Revoking twice changes nothing, and records nothing.
      if (account.revokedAt) return account;
      account.revokedAt = new Date();
      await appendSubjectAuditEvent(em, accountEvent(account, 'service_account.revoked', { revoked_at: [null, account.revokedAt.toISOString()] }));
      return account;
    });
  }

  /** The live account a key belongs to, or null. */
  async authenticate(key: string): Promise<ServiceAccount | null> {
    const hash = hashSecretToken(key);
    const cached = this.verified.get(hash);
    if (cached && cached.until > Date.now()) return cached.account;
    const account = await this.orm.em.fork().findOne(ServiceAccount, { keyHash: hash, revokedAt: null });
    if (account && this.cacheSeconds > 0) {
      this.verified.set(hash, { account, until: Date.now() + this.cacheSeconds * 1000 });
    }
    return account;
  }
}

function accountEvent(account: ServiceAccount, action: 'service_account.created' | 'service_account.revoked', changes: AuditEntry['changes']): AuditEntry {
  return { actor: OPERATOR, action, target: { type: 'service_account', id: account.id }, changes };
}
