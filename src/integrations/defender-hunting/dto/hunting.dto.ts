import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';

export const MAX_QUERY_LENGTH = 10_000;

export class HuntingParams {
  @ApiProperty({ format: 'uuid', description: 'Cordon tenant id.' })
  @IsUUID()
  id: string;
}

export class HuntingQueryDto {
  @ApiProperty({
    maxLength: MAX_QUERY_LENGTH,
    example: 'DeviceProcessEvents | where FileName == "powershell.exe" | project Timestamp, DeviceName, ProcessCommandLine | take 50',
    description: 'One KQL query over the Defender XDR advanced hunting tables (microsoft-notes §10), as Microsoft runs it.',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_QUERY_LENGTH)
  query: string;

  @ApiPropertyOptional({
    maxLength: 100,
    example: 'P1D',
    description: "ISO 8601 timespan: `P7D`, `start/end`, `P1D/end`, `start/P1D` or a start alone. Microsoft's default is 30 days, also its limit.",
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[0-9A-Za-z:.+\-/]+$/, { message: 'timespan is an ISO 8601 duration, instant or interval' })
  timespan?: string;
}

export class HuntingColumnResponse {
  @ApiProperty({ example: 'Timestamp' }) name: string;
  @ApiProperty({ example: 'DateTime', description: "Microsoft's column type (DateTime, String, Int32, Int64, Boolean, Object…)." }) type: string;
}

export class HuntingResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ type: [HuntingColumnResponse], description: "The result's columns, as Microsoft described them." }) schema: HuntingColumnResponse[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'The rows, as Microsoft returned them, at most CORDON_HUNTING_MAX_ROWS.',
  })
  rows: Array<Record<string, unknown>>;
  @ApiProperty({ description: 'Rows Microsoft returned.' }) rowCount: number;
  @ApiProperty({ description: 'True when Microsoft returned more rows than Cordon hands back (add `take` or narrow the query).' }) truncated: boolean;
}
