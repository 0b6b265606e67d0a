/** What other modules use from the Microsoft connectivity layer. */
export { MicrosoftModule } from './microsoft.module';
export {
  Clouds,
  CLOUD_NAMES,
  MICROSOFT_RESOURCES,
  isCloudName,
  UnsupportedInCloudError,
  ForeignHostError,
  type CloudName,
  type CloudEndpoints,
  type MicrosoftResource,
} from './clouds';
export { TokenProvider } from './token-provider';
export { MicrosoftHttp, type MicrosoftRequest, type MicrosoftResponse } from './microsoft-http';
export { GraphClientFactory, TenantGraphClient, type GraphCallOptions } from './graph-client.factory';
export { MicrosoftApiError, MicrosoftAuthError, type MicrosoftErrorKind } from './microsoft-errors';
export { describeCertificate, type CertificateInfo } from './client-certificate';
export type { TenantCredentials, SecretCredential, CertificateCredential } from './tenant-credentials';
