import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { problems } from '../common/problem';
import { JobsService } from '../jobs/jobs.service';
import type { HealthResponse } from './dto/health.dto';

const CHECK_TIMEOUT_MS = 3000;

function withTimeout<T>(work: Promise<T>): Promise<T> {
  return Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref())]);
}

@Injectable()
export class HealthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobsService,
  ) {}

  async ready(): Promise<HealthResponse> {
    const failures: string[] = [];
    await withTimeout(this.dataSource.query('SELECT 1')).catch((e: Error) => failures.push(`database: ${e.message}`));
    await withTimeout(this.jobs.ping())
      .then((ok) => ok || failures.push('jobs: not started'))
      .catch((e: Error) => failures.push(`jobs: ${e.message}`));
    if (failures.length > 0) throw problems.unavailable(`Not ready: ${failures.join('; ')}.`);
    return { status: 'ok', checks: { database: 'ok', jobs: 'ok' } };
  }
}
