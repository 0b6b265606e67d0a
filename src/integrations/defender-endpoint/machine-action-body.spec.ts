import { defenderComment, machineActionBody } from './machine-action-body';

/** Contract: the exact, case-sensitive parameter names Defender documents (microsoft-notes §5.3, M17). */
describe('Defender action bodies', () => {
  const comment = defenderComment('5e0f…', { type: 'apiKey', id: 'k1', name: 'xsoar' }, 'INC-9: ransomware');

  it('carries the Cordon action id, the requester and the reason in the comment', () => {
    expect(comment).toBe('Cordon action 5e0f…; requested by xsoar (apiKey k1); reason: INC-9: ransomware');
  });

  it.each([
    ['isolate', {}, { Comment: comment, IsolationType: 'Full' }],
    ['isolate', { isolationType: 'Selective' }, { Comment: comment, IsolationType: 'Selective' }],
    ['unisolate', {}, { Comment: comment }],
    ['runAntiVirusScan', {}, { Comment: comment, ScanType: 'Quick' }],
    ['runAntiVirusScan', { scanType: 'Full' }, { Comment: comment, ScanType: 'Full' }],
    ['restrictCodeExecution', {}, { Comment: comment }],
    ['unrestrictCodeExecution', {}, { Comment: comment }],
    ['collectInvestigationPackage', {}, { Comment: comment }],
    ['StopAndQuarantineFile', { sha1: 'a'.repeat(40) }, { Comment: comment, Sha1: 'a'.repeat(40) }],
  ])('%s %j ⇒ exactly the documented parameter names', (path, params, expected) => {
    const body = machineActionBody(path, comment, params);
    expect(body).toEqual(expected);
    for (const key of Object.keys(body)) expect(['Comment', 'IsolationType', 'ScanType', 'Sha1']).toContain(key);
  });
});
