import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsOptional } from 'class-validator';
import { ActionRequestDto } from '../../../actions/dto/action.dto';
import { TimeboxedActionRequestDto } from '../../../actions/releases/release-window';
import { Text, UuidParam } from '../../../common/dto-decorators';
import { PageQueryDto } from '../../../common/paging';

export class TenantDeviceParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;

  @Text(255, {
    pattern: /^[^/\\?#\s']+$/,
    message: 'device must be a machine id, an Entra device id or a DNS name',
    example: 'ws-042.contoso.com',
    description: 'A Defender machine id, an Entra device id, or a computer DNS name (a short name matches the first label).',
  })
  device: string;
}

export class TenantIdParam {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;
}

/** Isolation takes a release window too (time-boxed containment). */
export class IsolateDeviceDto extends TimeboxedActionRequestDto {
  @ApiPropertyOptional({
    enum: ['Full', 'Selective'],
    default: 'Full',
    description: 'Selective keeps Outlook, Teams and Skype working (Windows 10 1709+ and Windows 11).',
  })
  @IsOptional()
  @IsIn(['Full', 'Selective'])
  isolationType?: 'Full' | 'Selective';
}

export class ScanDeviceDto extends ActionRequestDto {
  @ApiPropertyOptional({ enum: ['Quick', 'Full'], default: 'Quick' })
  @IsOptional()
  @IsIn(['Quick', 'Full'])
  scanType?: 'Quick' | 'Full';
}

export class StopAndQuarantineFileDto extends ActionRequestDto {
  @Text(40, {
    min: 40,
    pattern: /^[0-9a-fA-F]{40}$/,
    message: 'sha1 must be the SHA-1 of the file: 40 hexadecimal characters',
    example: '87662bc3d60e4200ceaf7aae249d1c343f4b83c9',
    description: 'The SHA-1 of the file to stop and quarantine (Defender takes only SHA-1 here).',
  })
  sha1: string;
}

/** Printable text: no control characters (C0, DEL, C1). */
// eslint-disable-next-line no-control-regex
export const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f-\u009f]+$/;

export class DeviceTagsDto extends ActionRequestDto {
  @Text(200, {
    each: true,
    optional: true,
    pattern: NO_CONTROL_CHARS,
    message: 'each tag in add must be 1 to 200 characters without control characters',
    description: 'Machine tags to add (Defender compares tag text exactly).',
    example: ['IR-4711'],
  })
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique()
  add?: string[];

  @Text(200, {
    each: true,
    optional: true,
    pattern: NO_CONTROL_CHARS,
    message: 'each tag in remove must be 1 to 200 characters without control characters',
    description: 'Machine tags to remove.',
    example: ['quarantine-pending'],
  })
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique()
  remove?: string[];
}

export class CollectFileDto extends ActionRequestDto {
  @Text(1024, {
    // eslint-disable-next-line no-control-regex
    pattern: /^(?:[A-Za-z]:\\|\/)[^\u0000-\u001f\u007f-\u009f]*$/,
    message: 'path must be an absolute Windows (C:\\…) or POSIX (/…) path of at most 1024 characters without control characters',
    example: 'C:\\Users\\erin\\Downloads\\invoice.exe',
    description: 'The file to collect from the device (live response GetFile).',
  })
  path: string;
}

export class RunScriptDto extends ActionRequestDto {
  @Text(260, {
    // eslint-disable-next-line no-control-regex
    pattern: /^[^\\/:*?"<>|\u0000-\u001f\u007f-\u009f]+$/,
    message: 'script must be the name of a live-response library script (no path, no control characters)',
    example: 'collect-triage.ps1',
    description: "A script in Defender's live-response library that the tenant policy's liveResponseScripts allows.",
  })
  script: string;

  @Text(2048, {
    optional: true,
    pattern: NO_CONTROL_CHARS,
    message: 'args must be at most 2048 characters without control characters',
    example: '-Quick',
    description: 'Arguments passed to the script.',
  })
  args?: string;
}

export class DeviceQueryDto extends PageQueryDto {
  @Text(255, { optional: true, description: 'DNS name or its beginning (case-insensitive).', example: 'ws-0' })
  name?: string;
}

export class DeviceResponse {
  @ApiProperty({ description: 'Defender machine id.' }) machineId: string;
  @ApiProperty({ type: String, nullable: true }) computerDnsName: string | null;
  @ApiProperty({ type: String, nullable: true }) aadDeviceId: string | null;
  @ApiProperty({ type: String, nullable: true }) osPlatform: string | null;
  @ApiProperty({ type: String, nullable: true }) osVersion: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Active' }) healthStatus: string | null;
  @ApiProperty({ type: String, nullable: true }) onboardingStatus: string | null;
  @ApiProperty({ type: String, nullable: true }) riskScore: string | null;
  @ApiProperty({ type: String, nullable: true }) exposureLevel: string | null;
  @ApiProperty({ type: String, nullable: true }) lastIpAddress: string | null;
  @ApiProperty({ type: [String] }) machineTags: string[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) firstSeen: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastSeen: string | null;
  @ApiProperty({ format: 'date-time', description: 'When Cordon last read it from Defender.' }) syncedAt: string;
}

export class DevicePage {
  @ApiProperty({ type: [DeviceResponse] }) items: DeviceResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
