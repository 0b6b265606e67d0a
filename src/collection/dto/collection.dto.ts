import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { Text, UuidParam } from '../../common/dto-decorators';

/** A collection stream's name, as routes take it (`Audit.Exchange`, `DLP.All`). */
export const STREAM_NAME = /^[A-Za-z0-9.:_-]+$/;

export class CollectionParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;
}

export class CollectionStreamParams extends CollectionParams {
  @Text(100, {
    pattern: STREAM_NAME,
    message: 'source is not a collection stream name',
    example: 'Audit.Exchange',
    description:
      'The stream: for the Management Activity API, a content type (Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, DLP.All).',
  })
  source: string;
}

export class UpdateCollectionStreamDto {
  @ApiPropertyOptional({ description: 'Collect this stream for this tenant.' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ minimum: 1, maximum: 1440, description: 'Minutes between scheduled runs.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1440)
  intervalMinutes?: number;
}

export class CollectionRunSummary {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['schedule', 'manual'] }) trigger: string;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed', 'throttled'] }) status: string;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finishedAt: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Seconds the run took.' }) durationSeconds: number | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'Start of the first listing window.' }) windowStart: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'End of the last listing window.' }) windowEnd: string | null;
  @ApiProperty({ description: 'Records fetched.' }) fetched: number;
  @ApiProperty({ description: 'Records stored for the first time.' }) new: number;
  @ApiProperty({ description: 'Records already stored (Microsoft re-delivers); for stateful objects (alerts, incidents), versions already stored.' })
  duplicates: number;
  @ApiProperty({ description: 'Stateful objects (alerts, incidents) changed in place by a newer version; 0 for audit records.' }) updated: number;
  @ApiProperty({ description: 'Content blobs fetched.' }) blobs: number;
  @ApiProperty({ description: 'Gaps reported by this run.' }) gaps: number;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
}

export class CollectionGapResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['expired', 'failed', 'beyond-retention'] }) reason: string;
  @ApiProperty({ nullable: true, type: String, description: "The provider's content id, when one unit was lost." }) contentId: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) windowStart: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) windowEnd: string | null;
  @ApiProperty({ nullable: true, type: String }) detail: string | null;
  @ApiProperty({ format: 'date-time' }) detectedAt: string;
}

export class CollectionScheduleResponse {
  @ApiProperty() intervalMinutes: number;
  @ApiProperty({ format: 'date-time' }) nextRunAt: string;
}

export class CollectionErrorResponse {
  @ApiProperty() message: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) at: string | null;
}

export class CollectionAccountingResponse {
  @ApiProperty({ format: 'date-time', description: 'Start of the period counted (7 days back).' }) since: string;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Content blobs the provider listed (null for sources without content units, such as Graph pages). Always `stored + gaps + pending`.',
  })
  listed: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Of those, blobs stored.' }) stored: number | null;
  @ApiProperty({ description: 'Blobs (or, for sources without content units, windows) reported as gaps.' }) gaps: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Blobs listed but not stored yet: waiting for the next run, or failed and to be retried.' })
  pending: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Of the pending blobs, those whose fetch failed at least once.' }) failed: number | null;
  @ApiProperty({ description: 'Records stored for the first time.' }) records: number;
  @ApiProperty({ description: 'Records already stored (the provider re-delivers).' }) duplicates: number;
}

export class CollectionListingResponse {
  @ApiProperty({ description: 'False while a listing is unfinished: the last run stopped part-way through the window below.' }) complete: boolean;
  @ApiProperty({ format: 'date-time' }) windowStart: string;
  @ApiProperty({ format: 'date-time' }) windowEnd: string;
  @ApiProperty({ description: 'Pages read of that window so far.' }) pages: number;
  @ApiProperty({ description: 'Blobs listed of that window so far.' }) blobs: number;
  @ApiProperty({
    enum: ['next-page', 'window-start'],
    description: "Where the next run resumes: at the page after the last one read, or (when there is no page to resume at) the window's start.",
  })
  resumesAt: 'next-page' | 'window-start';
  @ApiProperty({ nullable: true, type: String, description: 'Why it stopped.' }) error: string | null;
  @ApiProperty({ format: 'date-time' }) at: string;
}

export class CollectionStreamResponse {
  @ApiProperty({ example: 'management-activity', description: 'The `source` of its events.' }) source: string;
  @ApiProperty({ example: 'Audit.Exchange' }) stream: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Tenant capability status from the last probe (available, unlicensed, forbidden, unreachable).' })
  capability: string | null;
  @ApiProperty({
    enum: ['active', 'disabled', 'skipped'],
    description:
      "`skipped`: the tenant's licences or granted permissions do not allow this source (capability unlicensed or forbidden); it is not run and not counted as failing.",
  })
  state: 'active' | 'disabled' | 'skipped';
  @ApiProperty({ nullable: true, type: String, description: "Why the source is skipped (the capability status and the probe's detail)." }) skipReason:
    string | null;
  @ApiProperty({ enum: ['unknown', 'enabled', 'disabled', 'missing', 'unavailable'], description: 'Provider-side subscription, as last seen.' })
  subscription: string;
  @ApiProperty({ type: CollectionScheduleResponse }) schedule: CollectionScheduleResponse;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'Everything the provider made available before this instant is stored or reported as a gap.',
  })
  cursor: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) newestRecordAt: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Seconds between now and the newest stored record.' }) lagSeconds: number | null;
  @ApiProperty({ type: CollectionRunSummary, nullable: true }) lastRun: CollectionRunSummary | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When the last run that succeeded finished (null: none yet).' })
  lastSuccessAt: string | null;
  @ApiProperty({ description: 'Gaps reported so far.' }) gapCount: number;
  @ApiProperty({ type: [CollectionGapResponse], description: 'The latest gaps (up to 10).' }) gaps: CollectionGapResponse[];
  @ApiProperty({ type: CollectionErrorResponse, nullable: true, description: "The last run's error; null once a run succeeds." })
  lastError: CollectionErrorResponse | null;
  @ApiProperty({
    type: CollectionAccountingResponse,
    description: 'The last 7 days, from the content ledger: every blob the provider listed is stored, reported as a gap or pending.',
  })
  last7Days: CollectionAccountingResponse;
  @ApiProperty({
    type: CollectionListingResponse,
    nullable: true,
    description: 'A listing the last run could not finish (throttled, failed, stopped); null when the last listing finished.',
  })
  listing: CollectionListingResponse | null;
}

export class CollectionResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ type: [CollectionStreamResponse] }) sources: CollectionStreamResponse[];
}

export class CollectionRunQueuedResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty() source: string;
  @ApiProperty() stream: string;
  @ApiProperty({ description: 'False when a run of this stream was already waiting (it covers this request).' }) queued: boolean;
}
