import { normalizeClientIp, normalizeResultStatus } from './normalize';

describe('normalizeClientIp', () => {
  it.each([
    ['203.0.113.45', '203.0.113.45'],
    ['203.0.113.45:51234', '203.0.113.45'],
    ['2001:DB8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:8443', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:203.0.113.9', '::ffff:203.0.113.9'],
    [' 198.51.100.1 ', '198.51.100.1'],
    ['', null],
    ['   ', null],
    [null, null],
    [undefined, null],
    ['<null>', null],
    ['999.1.1.1', null],
    ['not-an-ip', null],
  ])('%p ⇒ %p', (input, expected) => {
    expect(normalizeClientIp(input)).toBe(expected);
  });
});

describe('normalizeResultStatus', () => {
  it('unifies casing and vocabulary, keeping unknown values', () => {
    expect(['succeeded', 'Success', 'True', 'failed', 'False', 'PartiallySucceeded', 'Weird'].map(normalizeResultStatus)).toEqual([
      'Succeeded',
      'Succeeded',
      'Succeeded',
      'Failed',
      'Failed',
      'PartiallySucceeded',
      'Weird',
    ]);
  });
});
