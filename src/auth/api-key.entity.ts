import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { Role } from '../access/roles';

/** Mirrors migrations/0001_api_keys.sql; the boot e2e test fails when the two drift apart. */
@Entity({ name: 'api_keys' })
@Unique('api_keys_key_hash_key', ['keyHash'])
@Check('api_keys_name_length', 'char_length(name) BETWEEN 1 AND 200')
@Check('api_keys_roles_known', "cardinality(roles) > 0 AND roles <@ ARRAY['auditor', 'analyst', 'responder', 'admin']::text[]")
@Index('api_keys_created_at_id_idx', { synchronize: false })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text', { name: 'key_prefix' })
  keyPrefix: string;

  @Column('bytea', { name: 'key_hash' })
  keyHash: Buffer;

  @Column('text', { array: true })
  roles: Role[];

  @Column('uuid', { name: 'tenant_ids', array: true, nullable: true })
  tenantIds: string[] | null;

  @Column('text', { name: 'created_by' })
  createdBy: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @Column('text', { name: 'revoked_by', nullable: true })
  revokedBy: string | null;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}
