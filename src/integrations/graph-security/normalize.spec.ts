import { newestPerId, normalizeAlert, normalizeIncident, openEnum, timestamp } from './normalize';

describe('Graph security normalization', () => {
  it('keeps enums open, consistent in case', () => {
    expect(openEnum('microsoftDefenderForEndpoint')).toBe('microsoftDefenderForEndpoint');
    expect(openEnum('MicrosoftDefenderForEndpoint')).toBe('microsoftDefenderForEndpoint');
    expect(openEnum('InProgress')).toBe('inProgress');
    expect(openEnum('microsoftSomethingNew')).toBe('microsoftSomethingNew');
    expect(openEnum('')).toBeNull();
    expect(openEnum(3)).toBeNull();
  });

  it("keeps timestamps to milliseconds, Graph's seven digits included", () => {
    expect(timestamp('2025-03-03T11:10:00.1234567Z')).toBe('2025-03-03T11:10:00.123Z');
    expect(timestamp('2025-03-03T11:10:00Z')).toBe('2025-03-03T11:10:00.000Z');
    expect(timestamp('yesterday')).toBeNull();
  });

  it('maps an alert, keeping the raw object, and refuses one it cannot key', () => {
    const raw = {
      id: 'da1',
      incidentId: 4711,
      serviceSource: 'microsoftQuantumShield',
      severity: 'High',
      status: 'new',
      createdDateTime: '2025-03-03T11:10:00Z',
      lastUpdateDateTime: '2025-03-03T11:12:30.5Z',
    };
    expect(normalizeAlert(raw)).toEqual({
      row: expect.objectContaining({
        id: 'da1',
        incidentId: '4711',
        serviceSource: 'microsoftQuantumShield',
        severity: 'high',
        createdAt: '2025-03-03T11:10:00.000Z',
        lastUpdateAt: '2025-03-03T11:12:30.500Z',
        resolvedAt: null,
        raw,
      }),
    });
    expect(normalizeAlert({ title: 'no id' })).toEqual({ refused: expect.stringMatching(/without an id/) });
    expect(normalizeAlert({ id: 'x' })).toEqual({ refused: expect.stringMatching(/neither createdDateTime nor lastUpdateDateTime/) });
    expect(normalizeAlert({ id: 'x', createdDateTime: '2025-03-03T11:10:00Z' })).toMatchObject({ row: { lastUpdateAt: '2025-03-03T11:10:00.000Z' } });
  });

  it('maps an incident without any expanded alerts', () => {
    const out = normalizeIncident({
      id: 4711,
      severity: 'High',
      status: 'Active',
      createdDateTime: '2025-03-03T11:10:00Z',
      lastUpdateDateTime: '2025-03-03T11:10:00Z',
      alerts: [{ id: 'a' }],
    });
    expect(out).toMatchObject({ row: { id: '4711', severity: 'high', status: 'active' } });
    expect('row' in out && out.row.raw.alerts).toBeUndefined();
  });

  it('keeps the newest version of an object seen twice in one page', () => {
    const rows = newestPerId([
      { id: 'a', lastUpdateAt: '2025-03-03T11:00:00.000Z', v: 1 },
      { id: 'b', lastUpdateAt: '2025-03-03T11:00:00.000Z', v: 2 },
      { id: 'a', lastUpdateAt: '2025-03-03T12:00:00.000Z', v: 3 },
      { id: 'a', lastUpdateAt: '2025-03-03T10:00:00.000Z', v: 4 },
    ]);
    expect(rows.map((r) => r.v).sort()).toEqual([2, 3]);
  });
});
