/** Defender for Endpoint resources as Microsoft returns them (microsoft-notes §5.2, §5.3). */

export interface DefenderMachine {
  id: string;
  computerDnsName?: string | null;
  aadDeviceId?: string | null;
  osPlatform?: string | null;
  version?: string | null;
  healthStatus?: string | null;
  onboardingStatus?: string | null;
  riskScore?: string | null;
  exposureLevel?: string | null;
  lastIpAddress?: string | null;
  machineTags?: string[] | null;
  firstSeen?: string | null;
  lastSeen?: string | null;
  [key: string]: unknown;
}

export type MachineActionStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'TimeOut' | 'Cancelled';

export interface MachineAction {
  id: string;
  type: string;
  scope?: string | null;
  requestor?: string | null;
  requestorComment?: string | null;
  status: MachineActionStatus;
  machineId: string;
  computerDnsName?: string | null;
  creationDateTimeUtc?: string | null;
  lastUpdateDateTimeUtc?: string | null;
  cancellationRequestor?: string | null;
  cancellationComment?: string | null;
  cancellationDateTimeUtc?: string | null;
  errorHResult?: number | null;
  /** The file a StopAndQuarantineFile action is about. */
  relatedFileInfo?: { fileIdentifier: string; fileIdentifierType: string } | null;
  /** Live response sessions: their commands and how each went (microsoft-notes M50). */
  commands?: Array<{ index: number; commandStatus?: string; errors?: string[]; command?: { type?: string } }> | null;
}

export const FINAL_MACHINE_ACTION_STATUSES: readonly MachineActionStatus[] = ['Succeeded', 'Failed', 'TimeOut', 'Cancelled'];
