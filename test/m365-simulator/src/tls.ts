import { X509Certificate, createHash, generateKeyPair, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import forge from 'node-forge';

/**
 * TLS material generated at start: a throw-away CA and a leaf certificate for localhost, 127.0.0.1
 * and ::1 signed by it. MSAL insists on an https authority (microsoft-notes §1.4), so the simulator serves
 * HTTPS and Cordon trusts the CA (NODE_EXTRA_CA_CERTS or an explicit CA option).
 * Keys come from node's crypto (fast); node-forge only builds and signs the X.509 structures.
 */

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface SimTlsMaterial {
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

export function generateRsaKeyPair(bits = 2048): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

interface CertOptions {
  subjectCn: string;
  keys: KeyPairPem;
  /** Issuer; omitted ⇒ self-signed. */
  issuer?: { certPem: string; privateKeyPem: string };
  isCa?: boolean;
  /** Subject alternative names for a server certificate. */
  dnsNames?: string[];
  ips?: string[];
  days?: number;
}

function buildCertificate(opts: CertOptions): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.keys.publicKeyPem);
  // A positive serial: clear the top bit of the first byte.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + (opts.days ?? 825) * 24 * 3600 * 1000);
  const subject = [
    { name: 'commonName', value: opts.subjectCn },
    { name: 'organizationName', value: 'Cordon M365 Simulator' },
  ];
  cert.setSubject(subject);
  const issuerCert = opts.issuer ? forge.pki.certificateFromPem(opts.issuer.certPem) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  const extensions: Array<Record<string, unknown>> = [];
  if (opts.isCa) {
    extensions.push({ name: 'basicConstraints', cA: true, critical: true });
    extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true });
  } else {
    extensions.push({ name: 'basicConstraints', cA: false });
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    extensions.push({ name: 'extKeyUsage', serverAuth: true, clientAuth: true });
  }
  const altNames = [...(opts.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(opts.ips ?? []).map((ip) => ({ type: 7, ip }))];
  if (altNames.length) extensions.push({ name: 'subjectAltName', altNames });
  extensions.push({ name: 'subjectKeyIdentifier' });
  if (issuerCert) {
    extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuerCert.generateSubjectKeyIdentifier().getBytes() });
  }
  cert.setExtensions(extensions);
  // Sign the TBSCertificate with node's crypto (forge's pure-JS RSA is ~10x slower).
  const oid = forge.pki.oids.sha256WithRSAEncryption;
  cert.signatureOid = oid;
  (cert as unknown as { siginfo: { algorithmOid: string } }).siginfo.algorithmOid = oid;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  (cert as unknown as { tbsCertificate: unknown }).tbsCertificate = tbs;
  const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', der, opts.issuer?.privateKeyPem ?? opts.keys.privateKeyPem);
  (cert as unknown as { signature: string }).signature = signature.toString('binary');
  return forge.pki.certificateToPem(cert);
}

/** Key generation on the libuv thread pool, so several keys can be made in parallel. */
export function generateRsaKeyPairAsync(bits = 2048): Promise<KeyPairPem> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      'rsa',
      { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (err, publicKeyPem, privateKeyPem) => (err ? reject(err) : resolve({ privateKeyPem, publicKeyPem })),
    ),
  );
}

/** A CA plus a localhost server certificate signed by it. */
export function generateTlsMaterial(caKeys = generateRsaKeyPair(), leafKeys = generateRsaKeyPair()): SimTlsMaterial {
  const caCertPem = buildCertificate({ subjectCn: 'Cordon M365 Simulator CA', keys: caKeys, isCa: true, days: 3650 });
  const certPem = buildCertificate({
    subjectCn: 'localhost',
    keys: leafKeys,
    issuer: { certPem: caCertPem, privateKeyPem: caKeys.privateKeyPem },
    dnsNames: ['localhost'],
    ips: ['127.0.0.1', '::1'],
  });
  return { caCertPem, certPem, keyPem: leafKeys.privateKeyPem };
}

/** A self-signed certificate for a key pair (client credentials, token signing key). */
export function selfSignedCertificate(keys: KeyPairPem, subjectCn: string, days = 730): string {
  return buildCertificate({ subjectCn, keys, days });
}

export interface CertificateThumbprints {
  /** base64url SHA-1 of the DER certificate: the `x5t` JWT header. */
  x5t: string;
  /** base64url SHA-256 of the DER certificate: the `x5t#S256` JWT header. */
  x5tS256: string;
  /** Hex thumbprints, as MSAL's `clientCertificate.thumbprint` / `thumbprintSha256` expect. */
  sha1Hex: string;
  sha256Hex: string;
}

export function certificateThumbprints(certPem: string): CertificateThumbprints {
  const der = new X509Certificate(certPem).raw;
  const sha1 = createHash('sha1').update(der).digest();
  const sha256 = createHash('sha256').update(der).digest();
  return {
    x5t: sha1.toString('base64url'),
    x5tS256: sha256.toString('base64url'),
    sha1Hex: sha1.toString('hex').toUpperCase(),
    sha256Hex: sha256.toString('hex').toUpperCase(),
  };
}

/** Base64 DER of a PEM certificate (the `x5c` entry of a JWK). */
export function certificateDerBase64(certPem: string): string {
  return new X509Certificate(certPem).raw.toString('base64');
}
