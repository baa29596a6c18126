import { OPERATOR } from '../audit/audit-log.ts';
import type { AuditActor } from '../audit/audit-chain.ts';
import type { TenantUnitOfWork, Written } from '../authz/tenant-unit-of-work.ts';
import type { Organization, ServiceAccount, SubscriptionTier } from '../db/entities/index.ts';
import { isCanonicalUuid } from '../db/ids.ts';
import { Forbidden, NotFound } from '../errors.ts';
import { assertInScope } from './service-account-scope.ts';

export interface TierChange {
  organization: Organization;
  previous: SubscriptionTier;
}

/**
 * The subscription tier lifts or lowers an organization's plan limits, so it is never the
 * organization's to set: only a service account created to set tiers (a billing system, once
 * payment has cleared) or an operator at the CLI sets it. Each change is in the organization's
 * audit log as `org.billing.updated`, by whoever made it.
 */
export class SubscriptionTierService {
  private readonly unitOfWork: TenantUnitOfWork;

  constructor(unitOfWork: TenantUnitOfWork) {
    this.unitOfWork = unitOfWork;
  }

  /** For a billing system's service account: created with --sets-tiers, and in scope. */
  async setByService(account: ServiceAccount, organizationId: string, tier: SubscriptionTier): Promise<Written<TierChange>> {
    if (!account.setsSubscriptionTiers) {
      throw new Forbidden(`Service account ${account.name} may not set subscription tiers (it was created without --sets-tiers)`);
    }
    assertInScope(account, organizationId);
    return this.set({ type: 'service_account', id: account.id }, organizationId, tier);
  }

  /** For an operator at the CLI. */
  async setByOperator(organizationId: string, tier: SubscriptionTier): Promise<Written<TierChange>> {
    return this.set(OPERATOR, organizationId.toLowerCase(), tier);
  }

  private async set(actor: AuditActor, organizationId: string, tier: SubscriptionTier): Promise<Written<TierChange>> {
    const unknown = new NotFound(`No organization has id ${organizationId}`);
    if (!isCanonicalUuid(organizationId)) throw unknown;
    return this.unitOfWork.inOrganization(organizationId, async (_em, organization) => {
      if (!organization) throw unknown;
      const previous = organization.subscriptionTier;
      organization.subscriptionTier = tier;
      const target = { type: 'organization', id: organization.id };
      return {
        result: { organization, previous },
        // Setting the tier it already has changes nothing, and records nothing.
        audit: previous === tier ? [] : [{ actor, action: 'org.billing.updated', target, changes: { subscription_tier: [previous, tier] } }],
      };
    });
  }
}
