import { RequestContext } from '@mikro-orm/core';
import type { RouteServices } from '../../src/routes/index.ts';
import { Slots } from './slots.ts';
import type { TestService } from './test-service.ts';

/** The running service's own services: the ones its routes call. */
export type SeedingServices = RouteServices;

/**
 * Runs one seeding step through the services, in its own MikroORM request context as an HTTP
 * request would be: `await seed(service, ({ members }) => members.add(...))`.
 */
export async function seed<T>(service: TestService, step: (services: SeedingServices) => Promise<T>): Promise<T> {
  return seedingSlots(service).run(() => RequestContext.create(service.orm.em, () => step(service.services)));
}

/**
 * At most this many seeding steps at once per service: without HTTP in between, a file's
 * parallel tests would otherwise all queue on the service's Postgres pool (DATABASE_POOL_MAX
 * connections, 5 s to get one) and time out on a loaded machine; here they wait without a deadline, and leave
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
