import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Access } from '../access/access.decorator';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuditLogExporter } from './audit-log-exporter';
import { AuditLogService } from './audit-log.service';
import { AuditLogPage, AuditLogQueryDto, ExportQueryDto, VerifyQueryDto, VerifyResponse } from './dto/audit-log.dto';

@ApiTags('audit-log')
@ApiProblems()
@Controller('v1/audit-log')
export class AuditLogController {
  constructor(
    private readonly auditLog: AuditLogService,
    private readonly exporter: AuditLogExporter,
  ) {}

  @Get()
  @Access('auditor', 'admin')
  @ApiOkResponse({ type: AuditLogPage, description: 'Entries in seq order (oldest first); follow nextCursor for more.' })
  list(@Query() q: AuditLogQueryDto): Promise<AuditLogPage> {
    return this.auditLog.list(q);
  }

  @Get('verify')
  @Access('auditor', 'admin')
  @ApiOkResponse({ type: VerifyResponse, description: 'The chain recomputed; ok is false with the first bad seq when anything was altered.' })
  verify(@Query() q: VerifyQueryDto): Promise<VerifyResponse> {
    return this.auditLog.verify(q.from, q.to);
  }

  @Get('export')
  @Access('auditor', 'admin')
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'All matching entries, streamed as NDJSON (one entry per line) or CSV, with Content-Disposition.' })
  export(@Query() q: ExportQueryDto): StreamableFile {
    return this.exporter.export(q);
  }
}
