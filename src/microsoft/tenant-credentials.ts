import type { CloudName } from './clouds';

/**
 * What the tenants module hands over (decrypted) for every call: the customer tenant, Cordon's app
 * registration in it, the cloud it lives in and the app's credential. Nothing here is persisted.
 */
export interface TenantCredentials {
  /** Tenant GUID (app-only calls never use `common`; microsoft-notes §1.1). */
  tenantId: string;
  /** App (client) ID. */
  clientId: string;
  cloud: CloudName;
  credential: SecretCredential | CertificateCredential;
}

export interface SecretCredential {
  type: 'secret';
  secret: string;
}

/** A certificate registered on the app, and its private key (PEM: PKCS#8 or PKCS#1, unencrypted). */
export interface CertificateCredential {
  type: 'certificate';
  certificatePem: string;
  privateKeyPem: string;
}

/** The key of one app registration in one tenant and cloud (token caches, MSAL instances, limits). */
export function tenantKey(tenant: Pick<TenantCredentials, 'cloud' | 'tenantId' | 'clientId'>): string {
  return `${tenant.cloud}|${tenant.tenantId.toLowerCase()}|${tenant.clientId.toLowerCase()}`;
}
