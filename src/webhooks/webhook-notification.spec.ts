import { meetsSeverity } from './webhook-notification';

describe('webhook severity threshold', () => {
  it('sends at or above the minimum', () => {
    expect(meetsSeverity('high', 'medium')).toBe(true);
    expect(meetsSeverity('medium', 'medium')).toBe(true);
    expect(meetsSeverity('low', 'medium')).toBe(false);
    expect(meetsSeverity('informational', 'low')).toBe(false);
    expect(meetsSeverity('informational', 'informational')).toBe(true);
  });

  it('reads unknown and a missing severity as informational', () => {
    expect(meetsSeverity('unknown', 'informational')).toBe(true);
    expect(meetsSeverity('unknown', 'low')).toBe(false);
    expect(meetsSeverity(null, 'low')).toBe(false);
    expect(meetsSeverity('unknownFutureValue', 'low')).toBe(false);
  });

  it('sends a member newer than Cordon knows, whatever the threshold (it cannot be judged lower)', () => {
    expect(meetsSeverity('critical', 'high')).toBe(true);
  });
});
