import { Mutex } from './mutex';

describe('Mutex', () => {
  it('runs holders one at a time in arrival order', async () => {
    const mutex = new Mutex();
    const events: string[] = [];
    const task = (name: string, ms: number) =>
      mutex.run(async () => {
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`end ${name}`);
      });
    await Promise.all([task('a', 30), task('b', 1), task('c', 10)]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('releases the lock when the holder throws', async () => {
    const mutex = new Mutex();
    await expect(mutex.run(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(mutex.run(async () => 'next')).resolves.toBe('next');
  });
});
