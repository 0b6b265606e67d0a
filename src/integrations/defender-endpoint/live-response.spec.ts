import { commandErrors, liveResponseBody } from './live-response';
import type { MachineAction } from './defender-types';
import { documentedLimits } from './pacing';

/** Contract: the live response body Defender documents (microsoft-notes M50), case-sensitive names (microsoft-notes M17). */
describe('live response bodies', () => {
  it('sends one GetFile command with its Path', () => {
    expect(liveResponseBody('GetFile', 'c', { path: 'C:\\Temp\\a.exe' })).toEqual({
      Commands: [{ type: 'GetFile', params: [{ key: 'Path', value: 'C:\\Temp\\a.exe' }] }],
      Comment: 'c',
    });
  });

  it('sends one RunScript command with ScriptName, and Args only when given', () => {
    expect(liveResponseBody('RunScript', 'c', { script: 'collect-triage.ps1' })).toEqual({
      Commands: [{ type: 'RunScript', params: [{ key: 'ScriptName', value: 'collect-triage.ps1' }] }],
      Comment: 'c',
    });
    expect(liveResponseBody('RunScript', 'c', { script: 's.ps1', args: '-Quick' }).Commands).toEqual([
      {
        type: 'RunScript',
        params: [
          { key: 'ScriptName', value: 's.ps1' },
          { key: 'Args', value: '-Quick' },
        ],
      },
    ]);
  });

  it("words a failed session's command errors with their index and type", () => {
    const action = {
      id: 'a',
      type: 'LiveResponse',
      status: 'Failed',
      machineId: 'm',
      commands: [{ index: 0, commandStatus: 'Failed', errors: ['Script x.ps1 was not found'], command: { type: 'RunScript' } }],
    } as MachineAction;
    expect(commandErrors(action)).toEqual(['command 0 (RunScript): Script x.ps1 was not found']);
  });

  it('paces runliveresponse at 10 calls a minute', () => {
    expect(documentedLimits('runliveresponse').perMinute).toBe(10);
    expect(documentedLimits('tags')).toEqual({ perMinute: 100, perHour: 1500 });
  });
});
