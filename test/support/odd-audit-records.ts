/**
 * Management Activity records of every odd shape Microsoft delivers (microsoft-notes §2.3, M7, M34):
 * no Workload or Operation, negative and unknown RecordTypes, short and numeric Ids (two beyond
 * a double's precision that a parser would make equal), huge numbers, JSON nested inside strings, IPv6
 * with a zone or a port, IPv4 with a port, null fields, no Id at all, a 7-digit fraction, a zone suffix.
 * Written as NDJSON text, so numbers stay exactly as written; times are relative to `nowMs`.
 *
 * Shared by the simulator's contract tests and the e2e suite.
 */

export interface OddRecord {
  /** The record's line, verbatim. */
  text: string;
  /** What is odd about it. */
  shape: string;
  /** The Id as written (a number's digits, exactly), or null when the record has none. */
  id: string | null;
  contentType: string;
}

/** CreationTime as the API writes it (UTC, no zone), `minutesAgo` before `nowMs`. */
function at(nowMs: number, minutesAgo: number): string {
  return new Date(nowMs - minutesAgo * 60_000).toISOString().slice(0, 19);
}

export function oddAuditRecords(nowMs: number, tenantId: string): OddRecord[] {
  const t = (m: number) => at(nowMs, m);
  const org = `"OrganizationId":"${tenantId}"`;
  const rows: Array<Omit<OddRecord, 'text'> & { line: string }> = [
    {
      shape: 'no Workload, no Operation, negative RecordType, short Id',
      id: '7',
      contentType: 'Audit.General',
      line: `{"CreationTime":"${t(95)}","Id":"7","RecordType":-1,${org},"UserId":"svc@example.test","UserType":4}`,
    },
    {
      shape: 'unknown RecordType and Workload, non-GUID Id',
      id: 'x-1',
      contentType: 'Audit.General',
      line: `{"CreationTime":"${t(94)}","Id":"x-1","RecordType":987654,"Workload":"SomethingNew","Operation":"FutureOperation",${org}}`,
    },
    {
      shape: 'numeric Id beyond 2^53',
      id: '123456789012345678901',
      contentType: 'Audit.General',
      line: `{"CreationTime":"${t(93)}","Id":123456789012345678901,"RecordType":25,"Workload":"MicrosoftTeams","Operation":"MemberAdded",${org}}`,
    },
    {
      shape: 'numeric Id a double cannot tell from the one before',
      id: '123456789012345678902',
      contentType: 'Audit.General',
      line: `{"CreationTime":"${t(92)}","Id":123456789012345678902,"RecordType":25,"Workload":"MicrosoftTeams","Operation":"MemberRemoved",${org}}`,
    },
    {
      shape: 'small numeric Id',
      id: '42',
      contentType: 'Audit.General',
      line: `{"CreationTime":"${t(91)}","Id":42,"RecordType":25,"Workload":"MicrosoftTeams","Operation":"ChannelAdded",${org}}`,
    },
    {
      shape: 'huge numbers in other fields',
      id: 'f3a1c2d4-0001-4c00-8000-00000000a001',
      contentType: 'Audit.SharePoint',
      line: `{"CreationTime":"${t(90)}","Id":"f3a1c2d4-0001-4c00-8000-00000000a001","RecordType":6,"Workload":"SharePoint","Operation":"FileDownloaded",${org},"FileSizeBytes":98765432109876543210987,"Ratio":1.0000000000000000000001,"Tiny":1e-400,"UserId":"alice@contoso.example","ClientIP":"198.51.100.7:50212"}`,
    },
    {
      shape: 'nested JSON as strings',
      id: 'f3a1c2d4-0002-4c00-8000-00000000a002',
      contentType: 'Audit.AzureActiveDirectory',
      line: `{"CreationTime":"${t(89)}","Id":"f3a1c2d4-0002-4c00-8000-00000000a002","RecordType":15,"Workload":"AzureActiveDirectory","Operation":"UserLoggedIn",${org},"UserId":"Alice@Contoso.Example","ExtendedProperties":[{"Name":"additionalDetails","Value":"{\\"UserAgent\\":\\"Mozilla/5.0\\",\\"nested\\":{\\"deep\\":[1,2,{\\"x\\":null}]}}"}],"ModifiedProperties":[{"Name":"StrongAuthenticationMethod","NewValue":"[{\\"MethodType\\":6,\\"Default\\":true}]","OldValue":"[]"}]}`,
    },
    {
      shape: 'IPv6 with a zone index',
      id: 'f3a1c2d4-0003-4c00-8000-00000000a003',
      contentType: 'Audit.Exchange',
      line: `{"CreationTime":"${t(88)}","Id":"f3a1c2d4-0003-4c00-8000-00000000a003","RecordType":2,"Workload":"Exchange","Operation":"MailItemsAccessed",${org},"UserId":"bob@contoso.example","ClientIP":"fe80::1ff:fe23:4567:890a%eth0","ClientIPAddress":"fe80::1ff:fe23:4567:890a%3"}`,
    },
    {
      shape: 'IPv6 in brackets with a port',
      id: 'f3a1c2d4-0004-4c00-8000-00000000a004',
      contentType: 'Audit.Exchange',
      line: `{"CreationTime":"${t(87)}","Id":"f3a1c2d4-0004-4c00-8000-00000000a004","RecordType":50,"Workload":"Exchange","Operation":"Send",${org},"UserId":"bob@contoso.example","ClientIP":"[2001:db8::8a2e:370:7334]:443"}`,
    },
    {
      shape: 'null fields everywhere',
      id: 'f3a1c2d4-0005-4c00-8000-00000000a005',
      contentType: 'Audit.General',
      line: `{"CreationTime":"${t(86)}","Id":"f3a1c2d4-0005-4c00-8000-00000000a005","RecordType":null,"Workload":null,"Operation":null,"ResultStatus":null,"UserId":null,"UserType":null,"ClientIP":null,"ObjectId":null,${org}}`,
    },
    {
      shape: 'no Id at all (1)',
      id: null,
      contentType: 'Audit.General',
      line: `{"CreationTime":"${t(85)}","RecordType":18,"Workload":"SecurityComplianceCenter","Operation":"New-ComplianceSearch",${org},"Parameters":"-Name case-1"}`,
    },
    {
      shape: 'no Id at all (2)',
      id: null,
      contentType: 'Audit.General',
      line: `{"CreationTime":"${t(84)}","RecordType":18,"Workload":"SecurityComplianceCenter","Operation":"New-ComplianceSearch",${org},"Parameters":"-Name case-2"}`,
    },
    {
      shape: 'upper-case GUID Id, 7-digit fraction, zone suffix',
      id: 'F3A1C2D4-0006-4C00-8000-00000000A006',
      contentType: 'Audit.AzureActiveDirectory',
      line: `{"CreationTime":"${t(83)}.1234567Z","Id":"F3A1C2D4-0006-4C00-8000-00000000A006","RecordType":8,"Workload":"AzureActiveDirectory","Operation":"Update user.",${org},"ResultStatus":"success"}`,
    },
    {
      shape: 'DLP record type without a Workload',
      id: 'f3a1c2d4-0007-4c00-8000-00000000a007',
      contentType: 'DLP.All',
      line: `{"CreationTime":"${t(82)}","Id":"f3a1c2d4-0007-4c00-8000-00000000a007","RecordType":11,"Operation":"DlpRuleMatch",${org},"PolicyDetails":[]}`,
    },
    {
      shape: 'unicode, emoji and right-to-left text',
      id: 'f3a1c2d4-0008-4c00-8000-00000000a008',
      contentType: 'Audit.SharePoint',
      line: `{"CreationTime":"${t(81)}","Id":"f3a1c2d4-0008-4c00-8000-00000000a008","RecordType":6,"Workload":"OneDrive","Operation":"FileUploaded",${org},"SourceFileName":"\u05d3\u05d5\u05d7 \ud83d\udcc8 r\u00e9sum\u00e9.docx","UserId":"carol@contoso.example"}`,
    },
    {
      shape: 'numbers written as strings',
      id: 'f3a1c2d4-0009-4c00-8000-00000000a009',
      contentType: 'Audit.AzureActiveDirectory',
      line: `{"CreationTime":"${t(80)}","Id":"f3a1c2d4-0009-4c00-8000-00000000a009","RecordType":"15","UserType":"0","Workload":"AzureActiveDirectory","Operation":"UserLoginFailed",${org},"ClientIP":""}`,
    },
  ];
  return rows.map(({ line, ...rest }) => ({ ...rest, text: line }));
}

export function asNdjson(records: OddRecord[]): string {
  return records.map((r) => r.text).join('\n') + '\n';
}
