import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parseDuration, releaseDueAt, setReleaseMinimum, TimeboxedActionRequestDto } from './release-window';

const errorsOf = (body: Record<string, unknown>) =>
  validateSync(plainToInstance(TimeboxedActionRequestDto, { reason: 'r', ...body }), { whitelist: true, forbidNonWhitelisted: true }).map((e) => [
    e.property,
    Object.values(e.constraints ?? {}).join('; '),
  ]);

describe('release window', () => {
  afterEach(() => setReleaseMinimum(60));

  it('parses the ISO-8601 durations Cordon takes', () => {
    expect(parseDuration('PT1M')).toBe(60_000);
    expect(parseDuration('PT4H')).toBe(4 * 3600_000);
    expect(parseDuration('P1DT12H')).toBe(36 * 3600_000);
    expect(parseDuration('P2W')).toBe(14 * 86400_000);
    expect(parseDuration('PT1.5S')).toBe(1500);
    for (const bad of ['P', 'PT', 'P1M', 'P1Y', '4h', 'PT-1M', 'P1DT', '', 'PT1H30']) expect(parseDuration(bad)).toBeNull();
  });

  it('accepts PT1M to P30D and refuses outside, naming the field', () => {
    expect(errorsOf({ releaseAfter: 'PT1M' })).toEqual([]);
    expect(errorsOf({ releaseAfter: 'P30D' })).toEqual([]);
    expect(errorsOf({ releaseAfter: 'PT59S' })).toEqual([['releaseAfter', expect.stringContaining('between PT1M and P30D')]]);
    expect(errorsOf({ releaseAfter: 'P30DT1S' })).toEqual([['releaseAfter', expect.stringContaining('between PT1M and P30D')]]);
    expect(errorsOf({ releaseAfter: 'soon' })).toEqual([['releaseAfter', expect.stringContaining('ISO-8601 duration')]]);
    expect(errorsOf({ releaseAfter: 3600 })).toEqual([['releaseAfter', expect.stringContaining('must be a string')]]);
  });

  it('takes releaseAt within the same bounds, as an RFC 3339 date-time', () => {
    expect(errorsOf({ releaseAt: new Date(Date.now() + 3600_000).toISOString() })).toEqual([]);
    expect(errorsOf({ releaseAt: new Date(Date.now() + 10_000).toISOString() })).toEqual([['releaseAt', expect.stringContaining('from now')]]);
    expect(errorsOf({ releaseAt: new Date(Date.now() + 31 * 86400_000).toISOString() })).toEqual([['releaseAt', expect.stringContaining('from now')]]);
    expect(errorsOf({ releaseAt: 'tomorrow' })).toEqual([['releaseAt', expect.stringContaining('RFC 3339')]]);
  });

  it('refuses both at once, on both fields', () => {
    const errors = errorsOf({ releaseAfter: 'PT1H', releaseAt: new Date(Date.now() + 7200_000).toISOString() });
    expect(errors).toEqual([
      ['releaseAfter', 'releaseAfter and releaseAt cannot both be given'],
      ['releaseAt', 'releaseAt and releaseAfter cannot both be given'],
    ]);
  });

  it('lowers the minimum only when configured (tests), never below a second nor above PT1M', () => {
    setReleaseMinimum(2);
    expect(errorsOf({ releaseAfter: 'PT2S' })).toEqual([]);
    expect(errorsOf({ releaseAfter: 'PT1S' })).toHaveLength(1);
    setReleaseMinimum(600);
    expect(errorsOf({ releaseAfter: 'PT1M' })).toEqual([]);
  });

  it('counts releaseAfter from the success; a releaseAt already past is due at once', () => {
    const at = new Date('2025-01-01T00:00:00Z');
    expect(releaseDueAt({ releaseAfter: 'PT4H' }, at)?.toISOString()).toBe('2025-01-01T04:00:00.000Z');
    expect(releaseDueAt({ releaseAt: '2024-12-31T00:00:00Z' }, at)?.toISOString()).toBe(at.toISOString());
    expect(releaseDueAt({}, at)).toBeNull();
  });
});
