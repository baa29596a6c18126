import { randomUUID } from 'node:crypto';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { User } from './user.entity.js';

/**
 * An opaque, single-use refresh token, stored as a SHA-256 hash. Each refresh rotates it within
 * its family; presenting a used one means it leaked, so the whole family is revoked.
 */
@Entity({ tableName: 'refresh_tokens' })
export class RefreshToken {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64, unique: true })
  tokenHash: string;

  @Index()
  @Property({ type: 'uuid' })
  familyId: string;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', index: true })
  user: User;

  /** The context the access tokens of this family carry (switch-context changes it). */
  @Property({ type: 'uuid', nullable: true })
  organizationId: string | null;

  @Property({ type: 'uuid', nullable: true })
  workspaceId: string | null;

  @Property({ type: 'datetime' })
  expiresAt: Date;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  constructor(init: {
    tokenHash: string;
    familyId: string;
    user: User;
    organizationId: string | null;
    workspaceId: string | null;
    expiresAt: Date;
  }) {
    this.tokenHash = init.tokenHash;
    this.familyId = init.familyId;
    this.user = init.user;
    this.organizationId = init.organizationId;
    this.workspaceId = init.workspaceId;
    this.expiresAt = init.expiresAt;
  }
}
