import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { MicrosoftAuthError } from './microsoft-errors';

/**
 * A certificate credential prepared for MSAL (microsoft-notes §1.2, §1.4): MSAL wants the hex SHA-256
 * thumbprint (it then signs the assertion PS256 with `x5t#S256`, the current documented form) and a
 * PKCS#8 PEM private key. Problems are found here, before Entra ID is asked, with a clear message.
 */

export interface CertificateInfo {
  /** Hex SHA-1 thumbprint, as the Entra portal lists it. */
  thumbprintSha1: string;
  /** Hex SHA-256 thumbprint. */
  thumbprintSha256: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

export interface PreparedCertificate extends CertificateInfo {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

const hex = (fingerprint: string) => fingerprint.replace(/:/g, '').toLowerCase();

export function describeCertificate(certificatePem: string): CertificateInfo {
  const cert = parseCertificate(certificatePem, '');
  return info(cert);
}

export function prepareCertificate(tenantId: string, certificatePem: string, privateKeyPem: string, nowMs: number): PreparedCertificate {
  const cert = parseCertificate(certificatePem, tenantId);
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw invalid(tenantId, 'the private key is not an unencrypted PEM private key');
  }
  if (!cert.checkPrivateKey(key)) throw invalid(tenantId, 'the private key does not belong to the certificate');
  const details = info(cert);
  if (details.notAfter.getTime() < nowMs) {
    throw new MicrosoftAuthError('certificate_expired', [], `the certificate ${details.thumbprintSha1} expired on ${details.notAfter.toISOString()}`, tenantId);
  }
  return { ...details, privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function parseCertificate(certificatePem: string, tenantId: string): X509Certificate {
  try {
    return new X509Certificate(certificatePem);
  } catch {
    throw invalid(tenantId, 'the certificate is not a PEM X.509 certificate');
  }
}

function info(cert: X509Certificate): CertificateInfo {
  return {
    thumbprintSha1: hex(cert.fingerprint),
    thumbprintSha256: hex(cert.fingerprint256),
    subject: cert.subject,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

function invalid(tenantId: string, message: string): MicrosoftAuthError {
  return new MicrosoftAuthError('invalid_certificate', [], message, tenantId);
}
