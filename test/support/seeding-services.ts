import { randomBytes } from 'node:crypto';
import { RequestContext } from '@mikro-orm/core';
import { TenantAccess } from '../../src/authz/access.ts';
import { Authorizer } from '../../src/authz/authorizer.ts';
import { RelationshipWriter } from '../../src/authz/relationship-writer.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AccessTokens } from '../../src/services/access-tokens.ts';
import { IdentityService } from '../../src/services/identity.service.ts';
import { LoginThrottle } from '../../src/services/login-throttle.ts';
import { OrganizationMemberService } from '../../src/services/organization-member.service.ts';
import { OrganizationService } from '../../src/services/organization.service.ts';
import { PasswordHasher } from '../../src/services/password-hasher.ts';
import { WorkspaceMemberService } from '../../src/services/workspace-member.service.ts';
import { WorkspaceService } from '../../src/services/workspace.service.ts';
import type { TestService } from './test-service.ts';

/** The password of every factory user that does not choose one, hashed once per process. */
export const FACTORY_PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
let factoryPasswordHash: Promise<string> | undefined;

/** Hashes the factory password once; any other password is hashed as the service would. */
class OnceHashingPasswordHasher extends PasswordHasher {
  override hash(password: string): Promise<string> {
    if (password !== FACTORY_PASSWORD) return super.hash(password);
    factoryPasswordHash ??= super.hash(password);
    return factoryPasswordHash;
  }
}

export interface SeedingServices {
  identity: IdentityService;
  organizations: OrganizationService;
  members: OrganizationMemberService;
  workspaces: WorkspaceService;
  workspaceMembers: WorkspaceMemberService;
}

const built = new WeakMap<TestService, Promise<SeedingServices>>();

/**
 * Runs one seeding step through the services, in its own MikroORM request context as an HTTP
 * request would be: `await seed(service, ({ members }) => members.add(...))`.
 */
export async function seed<T>(service: TestService, step: (services: SeedingServices) => Promise<T>): Promise<T> {
  const services = await seedingServices(service);
  return seedingSlots(service).run(() => RequestContext.create(service.orm.em, () => step(services)));
}

/**
 * At most this many seeding steps at once per service: without HTTP in between, a file's
 * parallel tests would otherwise all queue on the service's Postgres pool (10 connections, 5 s
 * to get one) and time out on a loaded machine; here they wait without a deadline, and leave
 * connections to the requests under test.
 */
const SEEDING_SLOTS = 4;
const slots = new WeakMap<TestService, Slots>();

function seedingSlots(service: TestService): Slots {
  let found = slots.get(service);
  if (!found) {
    found = new Slots(SEEDING_SLOTS);
    slots.set(service, found);
  }
  return found;
}

class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(count: number) {
    this.free = count;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * The services factories seed through, wired as src/composition.ts wires them, over the running
 * service's own stores: its ORM, its SpiceDB client (so the read-your-writes floor is shared) and
 * its outbox. The running service does not expose its services, so they are built here once per
 * test service; the signing key is the one the service loaded from Postgres.
 */
function seedingServices(service: TestService): Promise<SeedingServices> {
  let services = built.get(service);
  if (!services) {
    services = build(service);
    built.set(service, services);
  }
  return services;
}

async function build(service: TestService): Promise<SeedingServices> {
  const { config, orm, spicedb, outbox } = service;
  const authorizer = new Authorizer(spicedb);
  const access = new TenantAccess(authorizer);
  const tokens = await AccessTokens.load(orm, config.jwt);
  const writer = new RelationshipWriter(orm, spicedb, outbox, createLogger('silent'));
  const organizations = new OrganizationService(orm, outbox, writer, authorizer, access, config.planLimits);
  const workspaces = new WorkspaceService(orm, writer, authorizer, access, organizations);
  const identity = new IdentityService(
    orm,
    new OnceHashingPasswordHasher(config.passwords.cost),
    new LoginThrottle(config.loginThrottle),
    tokens,
    authorizer,
    access,
    organizations,
    config.jwt.refreshTtlSeconds,
  );
  return {
    identity,
    organizations,
    members: new OrganizationMemberService(orm, writer, access, organizations),
    workspaces,
    workspaceMembers: new WorkspaceMemberService(orm, access, workspaces),
  };
}
