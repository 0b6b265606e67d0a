import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobsService } from '../../src/jobs/jobs.service';
import { startTestApp, TestApp } from './support/test-app';

const handled: string[] = [];

/** A module owning a queue, registered the way feature modules do it. */
@Injectable()
class ProbeQueue implements OnModuleInit {
  constructor(private readonly jobs: JobsService) {}
  onModuleInit() {
    this.jobs.register<{ label: string }>({
      name: 'e2e-probe',
      pollingIntervalSeconds: 0.5,
      handle: async ({ label }) => {
        handled.push(label);
      },
    });
  }
}

@Module({ providers: [ProbeQueue] })
class ProbeModule {}

async function waitFor(predicate: () => boolean, timeoutMs = 15000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('jobs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, [ProbeModule]);
  });
  afterAll(() => t.close());

  it('never runs a job enqueued in a transaction that rolls back, and runs one that commits', async () => {
    const jobs = t.app.get(JobsService);
    const dataSource = t.app.get(DataSource);
    let rolledBackId: string | null = null;
    await expect(
      dataSource.transaction(async (manager) => {
        rolledBackId = await jobs.send('e2e-probe', { label: 'rolled-back' }, {}, manager);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(rolledBackId).toMatch(/^[0-9a-f-]{36}$/);

    await dataSource.transaction(async (manager) => {
      await jobs.send('e2e-probe', { label: 'committed' }, {}, manager);
    });
    await waitFor(() => handled.includes('committed'));
    // a later job proves the queue was polled again after the rolled-back one would have been due
    await jobs.send('e2e-probe', { label: 'after' });
    await waitFor(() => handled.includes('after'));

    expect(handled).not.toContain('rolled-back');
    expect(await jobs.instance().getJobById('e2e-probe', rolledBackId!)).toBeNull();
  });

  it('refuses a queue nobody registered', async () => {
    await expect(t.app.get(JobsService).send('nobody-owns-this', {})).rejects.toThrow('unknown queue');
  });
});
