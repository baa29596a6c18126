import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';
import { User } from './user.entity.ts';
import type { WorkspaceRole } from './workspace-membership.entity.ts';

/** Stored states; `expired` is also what a pending invitation past its expiry reads as. */
export const INVITATION_STATES = ['pending', 'accepted', 'declined', 'revoked', 'expired'] as const;
export type InvitationState = (typeof INVITATION_STATES)[number];
export const INVITATION_ROLES = ['admin', 'member'] as const;
export type InvitationRole = (typeof INVITATION_ROLES)[number];
/** `logged`: SMTP_URL is unset, so the message went to the log, not to the invitee. */
export const DELIVERY_STATES = ['pending', 'sent', 'logged', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface InvitedWorkspace {
  workspace_id: string;
  role: WorkspaceRole;
}

/**
 * An invitation to join an organization: by email, or, with `invitee`, to one account (a
 * membership proposed through `POST /orgs/{id}/members`, pending until that account accepts).
 * Only the SHA-256 of its token is kept: the token itself exists in the invitee's mail (and in
 * the mail outbox until it is sent).
 */
export class Invitation {
  id: string = randomUUID();
  organization: Organization;
  /** Where the message goes. For an account-addressed invitation, that account's: never shown to the organization. */
  email: string;
  /** The one account that may answer it; null for an invitation by email. */
  invitee: User | null;
  role: InvitationRole;
  workspaces: InvitedWorkspace[];
  tokenHash: string;
  state: InvitationState = 'pending';
  delivery: DeliveryState = 'pending';
  invitedBy: User;
  acceptedBy: string | null = null;
  expiresAt: Date;
  /** When its newest message was written to the mail outbox (the resend cooldown runs from it). */
  mailedAt: Date | null = null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();

  constructor(init: {
    organization: Organization;
    email: string;
    invitee?: User | null;
    role: InvitationRole;
    workspaces: InvitedWorkspace[];
    tokenHash: string;
    invitedBy: User;
    expiresAt: Date;
  }) {
    this.organization = init.organization;
    this.email = init.email;
    this.invitee = init.invitee ?? null;
    this.role = init.role;
    this.workspaces = init.workspaces;
    this.tokenHash = init.tokenHash;
    this.invitedBy = init.invitedBy;
    this.expiresAt = init.expiresAt;
  }

  /** What the invitation reads as now: a pending one past its expiry is expired, without any job. */
  stateAt(now: Date = new Date()): InvitationState {
    return this.state === 'pending' && this.expiresAt <= now ? 'expired' : this.state;
  }
}

export const InvitationSchema = new EntitySchema<Invitation>({
  class: Invitation,
  tableName: 'invitations',
  uniques: [
    {
      name: 'invitations_one_pending_per_email',
      expression: `create unique index "invitations_one_pending_per_email" on "invitations" ("organization_id", "email") where "state" = 'pending' and "invitee_id" is null`,
    },
    {
      name: 'invitations_one_pending_per_invitee',
      expression: `create unique index "invitations_one_pending_per_invitee" on "invitations" ("organization_id", "invitee_id") where "state" = 'pending' and "invitee_id" is not null`,
    },
  ],
  properties: {
    id: { type: 'uuid', primary: true },
    organization: { kind: 'm:1', entity: () => Organization, deleteRule: 'cascade' },
    email: { type: 'string', length: 254, index: true },
    invitee: { kind: 'm:1', entity: () => User, nullable: true, deleteRule: 'cascade', index: true },
    role: { type: 'string', length: 16 },
    workspaces: { type: 'json' },
    tokenHash: { type: 'string', length: 64, unique: true },
    state: { type: 'string', length: 16, default: 'pending' },
    delivery: { type: 'string', length: 16, default: 'pending' },
    invitedBy: { kind: 'm:1', entity: () => User, deleteRule: 'cascade' },
    acceptedBy: { type: 'uuid', nullable: true },
    expiresAt: { type: 'datetime' },
    mailedAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
