import type { MicrosoftResource } from '../microsoft';

export { RESOURCE_APP_IDS } from '../microsoft/clouds';

/**
 * Application permissions (app roles) by name: the resource and the role's id, as requiredResourceAccess
 * names them. `verified` is true where two independent published tables of the resource's app roles (exports
 * of its service principal's `appRoles`) agree on the id; a tenant's own
 * `GET /servicePrincipals(appId='<resource>')?$select=appRoles` is the final word.
 */
export const PERMISSION_IDS: Record<string, { resource: MicrosoftResource; id: string; verified: boolean }> = {
  'ActivityFeed.Read': { resource: 'manage', id: '594c1fb6-4f81-4475-ae41-0c394909246c', verified: true },
  'ActivityFeed.ReadDlp': { resource: 'manage', id: '4807a72c-ad38-4250-94c9-4eabfe26cd55', verified: true },
  'AppRoleAssignment.ReadWrite.All': { resource: 'graph', id: '06b708a9-e830-4db3-a914-8e69da51d44f', verified: true },
  'Application.Read.All': { resource: 'graph', id: '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', verified: true },
  'Application.ReadWrite.All': { resource: 'graph', id: '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9', verified: true },
  'AuditLog.Read.All': { resource: 'graph', id: 'b0afded3-3588-46d8-8b3d-9842eff778da', verified: true },
  'AuditLogsQuery.Read.All': { resource: 'graph', id: '5e1e9171-754d-478c-812c-f1755a9a4c2d', verified: true },
  'DelegatedPermissionGrant.ReadWrite.All': { resource: 'graph', id: '8e8e4742-1d95-4f68-9d56-6ee75648c72a', verified: true },
  'Directory.Read.All': { resource: 'graph', id: '7ab1d382-f21e-4acd-a863-ba3e13f7da61', verified: true },
  'Directory.ReadWrite.All': { resource: 'graph', id: '19dbc75e-c2e2-444c-a770-ec69d8559fc7', verified: true },
  'Group.ReadWrite.All': { resource: 'graph', id: '62a82d76-70ea-41e2-9197-370581804d09', verified: true },
  'GroupMember.ReadWrite.All': { resource: 'graph', id: 'dbaae8cf-10b5-4b86-a4a1-f871c94c6695', verified: true },
  'IdentityRiskEvent.Read.All': { resource: 'graph', id: '6e472fd1-ad78-48da-a0f0-97ab2c6b769e', verified: true },
  'IdentityRiskyUser.ReadWrite.All': { resource: 'graph', id: '656f6061-f9fe-4807-9708-6a2e0934df76', verified: true },
  'Machine.CollectForensics': { resource: 'defender', id: '15405ab2-2103-4a3c-ad80-e829841cedcc', verified: true },
  'Machine.Isolate': { resource: 'defender', id: '7e4e1300-e1b9-4102-88ba-f0cb6e6d5974', verified: true },
  'Machine.LiveResponse': { resource: 'defender', id: '1629b959-c0af-42a1-92f0-f6162060bdf1', verified: true },
  'Machine.Read.All': { resource: 'defender', id: 'ea8291d3-4b9a-44b5-bc3a-6cea3026dc79', verified: true },
  'Machine.ReadWrite.All': { resource: 'defender', id: 'aa027352-232b-4ed4-b963-a705fc4d6d2c', verified: true },
  'Machine.RestrictExecution': { resource: 'defender', id: '96b6b35d-074d-4e2d-b167-8d68d9269648', verified: true },
  'Machine.Scan': { resource: 'defender', id: 'a86d9824-b2b6-45f8-b042-16bc4922ed4e', verified: true },
  'Machine.StopAndQuarantine': { resource: 'defender', id: '96e72b5e-7e68-4171-aad1-3937599e4751', verified: true },
  'Mail.ReadWrite': { resource: 'graph', id: 'e2a3a72e-5f79-4c64-b1b1-878b674786c9', verified: true },
  'MailboxSettings.Read': { resource: 'graph', id: '40f97065-369a-49f4-947c-6a255697ae91', verified: true },
  'MailboxSettings.ReadWrite': { resource: 'graph', id: '6931bccd-447a-43d1-b442-00a195474933', verified: true },
  'Organization.Read.All': { resource: 'graph', id: '498476ce-e0fe-48b0-b801-37ba7e2685c6', verified: true },
  'SecurityAlert.Read.All': { resource: 'graph', id: '472e4a4d-bb4a-4026-98d1-0b0d74cb74a5', verified: true },
  'SecurityAlert.ReadWrite.All': { resource: 'graph', id: 'ed4fca05-be46-441f-9803-1873825f8fdb', verified: true },
  'SecurityAnalyzedMessage.ReadWrite.All': { resource: 'graph', id: '04c55753-2244-4c25-87fc-704ab82a4f69', verified: true },
  'SecurityEvents.Read.All': { resource: 'graph', id: 'bf394140-e372-4bf9-a898-299cfc7564e5', verified: true },
  'SecurityIncident.Read.All': { resource: 'graph', id: '45cc0394-e837-488b-a098-1918f48d186c', verified: true },
  'SecurityIncident.ReadWrite.All': { resource: 'graph', id: '34bf0e97-1971-4929-b999-9e2442d941d7', verified: true },
  'ServiceHealth.Read': { resource: 'manage', id: 'e2cea78f-e743-4d8f-a16a-75b629a038ae', verified: true },
  'ThreatHunting.Read.All': { resource: 'graph', id: 'dd98c7f5-2d42-42d3-a0e4-633161547251', verified: true },
  'Ti.ReadWrite.All': { resource: 'defender', id: 'fc511a58-3adf-4d71-af24-00f13e35e479', verified: true },
  'User-PasswordProfile.ReadWrite.All': { resource: 'graph', id: 'cc117bb9-00cf-4eb8-b580-ea2a878fe8f7', verified: true },
  'User.EnableDisableAccount.All': { resource: 'graph', id: '3011c876-62b7-4ada-afa2-506cbbecc68c', verified: true },
  'User.Read.All': { resource: 'graph', id: 'df021288-bdef-4463-88db-98f22de89214', verified: true },
  'User.ReadWrite.All': { resource: 'graph', id: '741f803b-c850-494e-b5df-cde7c675a1ca', verified: true },
  'User.RevokeSessions.All': { resource: 'graph', id: '77f3a031-c388-4f99-b373-dc68676a979e', verified: true },
  'UserAuthenticationMethod.Read.All': { resource: 'graph', id: '38d9df27-64da-44fd-b7c5-a6fbac20248f', verified: true },
  'UserAuthenticationMethod.ReadWrite.All': { resource: 'graph', id: '50483e42-d915-4231-9639-7fdb7fd190e5', verified: true },
};
