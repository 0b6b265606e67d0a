/**
 * The bodies of Defender response actions. Parameter names are case-sensitive (microsoft-notes §5.1,
 * microsoft-notes M17): `Comment`, `IsolationType`, `ScanType`, `Sha1` — built here, and only here.
 */

export type ActionParams = { isolationType?: string; scanType?: string; sha1?: string };

export interface Requester {
  type: string;
  id: string;
  name: string;
}

/** The comment Microsoft records with the machine action: it links Defender's record back to ours. */
export function defenderComment(actionId: string, requester: Requester, reason: string): string {
  return `Cordon action ${actionId}; requested by ${requester.name} (${requester.type} ${requester.id}); reason: ${reason}`;
}

export function machineActionBody(path: string, comment: string, params: ActionParams): Record<string, string> {
  switch (path) {
    case 'isolate':
      return { Comment: comment, IsolationType: params.isolationType ?? 'Full' };
    case 'runAntiVirusScan':
      return { Comment: comment, ScanType: params.scanType ?? 'Quick' };
    case 'StopAndQuarantineFile':
      return { Comment: comment, Sha1: params.sha1 ?? '' };
    default:
      return { Comment: comment };
  }
}
