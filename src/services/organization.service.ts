import type { EntityManager } from '@mikro-orm/postgresql';
import type { RelationshipOutbox } from '../authz/outbox.js';
import { organizationRoleTuple, workspaceParentTuple, workspaceRoleTuple } from '../authz/relationships.js';
import {
  Organization,
  OrganizationMembership,
  Workspace,
  WorkspaceMembership,
  type User,
} from '../db/entities/index.js';
import type { Orm } from '../db/orm.js';

export const DEFAULT_WORKSPACE_NAME = 'Default Workspace';

export interface NewOrganization {
  name: string;
  billingEmail?: string | undefined;
}

export interface CreatedOrganization {
  organization: Organization;
  defaultWorkspace: Workspace;
  /** Outbox rows to deliver once the enclosing transaction has committed. */
  pendingOutbox: string[];
}

export class OrganizationService {
  constructor(
    private readonly orm: Orm,
    private readonly outbox: RelationshipOutbox,
  ) {}

  /** The owner's new organization with its default workspace, its tuples delivered before returning. */
  async create(owner: User, input: NewOrganization): Promise<CreatedOrganization> {
    const created = await this.orm.em.transactional((em) => this.createWithin(em, owner, input));
    await this.deliverCreated(created);
    return created;
  }

  /**
   * The same, inside a transaction the caller owns (signup creates the user in it too). The
   * caller calls deliverCreated() after its commit.
   */
  async createWithin(em: EntityManager, owner: User, input: NewOrganization): Promise<CreatedOrganization> {
    const organization = new Organization(input.name, input.billingEmail ?? owner.email);
    const ownership = new OrganizationMembership(organization, owner, 'owner');
    const defaultWorkspace = new Workspace(organization, DEFAULT_WORKSPACE_NAME);
    const workspaceAdmin = new WorkspaceMembership(defaultWorkspace, owner, 'admin');
    em.persist([organization, ownership, defaultWorkspace, workspaceAdmin]);
    await em.flush();
    const pendingOutbox = await this.outbox.enqueueGrants(
      em,
      [organizationRoleTuple(ownership), workspaceParentTuple(defaultWorkspace), workspaceRoleTuple(workspaceAdmin)],
      organization.id,
    );
    return { organization, defaultWorkspace, pendingOutbox };
  }

  async deliverCreated(created: CreatedOrganization): Promise<void> {
    const tokens = await this.outbox.deliver(created.pendingOutbox);
    created.organization.zedToken = tokens.get(created.organization.id) ?? created.organization.zedToken;
  }
}
