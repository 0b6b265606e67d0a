import { compileFilter, FilterSyntaxError } from '../src/defender/odata-filter';

/** The `$filter` subset of the MDE OData samples page (microsoft-notes §5.2). */
describe('Defender $filter', () => {
  const options = { properties: ['computerDnsName', 'lastSeen', 'rbacGroupId', 'aadDeviceId', 'machineTags'], dateProperties: ['lastSeen'] };
  const rows = [
    { computerDnsName: "o'brien-pc", lastSeen: '2026-03-01T10:00:00Z', rbacGroupId: 7, aadDeviceId: null, machineTags: [] },
    { computerDnsName: 'ws-1', lastSeen: '2026-03-02T10:00:00Z', rbacGroupId: 12, aadDeviceId: 'x', machineTags: ['VIP'] },
  ];
  const run = (filter: string) => rows.filter(compileFilter(filter, options)).map((r) => r.computerDnsName);

  it.each([
    ["computerDnsName eq 'o''brien-pc'", ["o'brien-pc"]],
    ['aadDeviceId eq null', ["o'brien-pc"]],
    ['aadDeviceId ne null', ['ws-1']],
    ['rbacGroupId ge 12', ['ws-1']],
    ['rbacGroupId lt 12 and rbacGroupId gt 6', ["o'brien-pc"]],
    ["lastSeen ge '2026-03-02T10:00:00Z'", ['ws-1']],
    ['lastSeen lt 2026-03-02T11:00:00+01:00', ["o'brien-pc"]],
    ["machineTags/any(t: t eq 'vip')", ['ws-1']],
    ["(computerDnsName eq 'ws-1' or rbacGroupId eq 7) and not startswith(computerDnsName,'O')", ['ws-1']],
  ])('%s', (filter, expected) => {
    expect(run(filter)).toEqual(expected);
  });

  it.each([
    ["computerDnsName eq 'a' and"],
    ["computerDnsName like 'a'"],
    ["riskScore eq 'High'"],
    ["(computerDnsName eq 'a'"],
    ['computerDnsName eq ws-1'],
    ["machineTags/all(t: t eq 'a')"],
    ['lastSeen gt 2026-13-45Z'],
    ['computerDnsName eq @x'],
  ])('rejects %s', (filter) => {
    expect(() => compileFilter(filter, options)).toThrow(FilterSyntaxError);
  });
});
