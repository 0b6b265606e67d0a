import { parseFilter, ODataFilterError } from '../src/graph/odata';
import { checkFilter, evaluateFilter, type FilterSpec } from '../src/graph/odata-eval';

const alert = {
  id: 'a1',
  severity: 'High',
  status: 'new',
  serviceSource: 'microsoftDefenderForEndpoint',
  createdDateTime: '2025-03-03T11:10:00.123Z',
  assignedTo: null,
  title: "O'Brien's laptop",
  status2: { errorCode: 50126 },
  targetResources: [
    { id: 'u1', type: 'User' },
    { id: 'u2', type: 'User' },
  ],
  CreationTime: '2025-03-03T11:02:09',
};

const matches = (filter: string, obj: object = alert): boolean => evaluateFilter(parseFilter(filter), obj);

describe('OData $filter evaluation', () => {
  it.each([
    ["severity eq 'high'", true], // enum/string comparison is case-insensitive
    ["severity ne 'high'", false],
    ['createdDateTime ge 2025-03-03T11:10:00Z', true],
    ['createdDateTime gt 2025-03-03T11:10:00.123Z', false],
    ['createdDateTime le 2025-03-03T11:10:00.123Z', true],
    ['createdDateTime lt 2025-03-03', false],
    ['createdDateTime gt 2025-03-03', true],
    ["severity eq 'low' or status eq 'new'", true],
    ["severity eq 'high' and status eq 'resolved'", false],
    ["severity eq 'high' and (status eq 'resolved' or serviceSource eq 'microsoftDefenderForEndpoint')", true],
    ["not (status eq 'new')", false],
    ['assignedTo eq null', true],
    ['assignedTo ne null', false],
    ["title eq 'O''Brien''s laptop'", true],
    ["startswith(title, 'o''brien')", true],
    ['status2/errorCode eq 50126', true],
    ['status2/errorCode ne 0', true],
    ["targetResources/any(t:t/id eq 'u2')", true],
    ["targetResources/any(t: t/id eq 'u3')", false],
    ["targetResources/all(t: t/type eq 'User')", true],
    ["status in ('new', 'inProgress')", true],
    ['CreationTime ge 2025-03-03T11:02:09Z', true], // zone-less timestamps are UTC
    ['2025-03-04T00:00:00Z gt createdDateTime', true], // literal on the left
  ])('%s ⇒ %s', (filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });

  it('binds "and" tighter than "or"', () => {
    // false and false or true ⇒ (false and false) or true ⇒ true
    expect(matches("status eq 'x' and severity eq 'x' or id eq 'a1'")).toBe(true);
    expect(matches("status eq 'x' and (severity eq 'x' or id eq 'a1')")).toBe(false);
  });

  it('accepts unquoted GUIDs', () => {
    expect(matches('id eq 8f1d2c3b-aaaa-bbbb-cccc-123456789abc', { id: '8F1D2C3B-AAAA-BBBB-CCCC-123456789ABC' })).toBe(true);
  });
});

describe('OData $filter errors', () => {
  it.each([
    ["severity eq 'high", 'syntax'],
    ['severity eq', 'syntax'],
    ["(severity eq 'high'", 'syntax'],
    ["severity eq 'high')", 'syntax'],
    ["severity 'high'", 'syntax'],
    ['', 'syntax'],
    ['severity eq #', 'syntax'],
    ["tolower(severity) eq 'high'", 'unsupported'],
    ["severity has 'high'", 'unsupported'],
  ])('%s is a %s error', (filter, kind) => {
    let error: unknown;
    try {
      parseFilter(filter);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ODataFilterError);
    expect((error as ODataFilterError).kind).toBe(kind);
  });

  const spec: FilterSpec = { properties: ['severity', 'createdDateTime', 'status/errorCode'], lambdas: { targetResources: ['id'] } };

  it('refuses properties the endpoint does not filter on', () => {
    expect(() => checkFilter(parseFilter("investigationState eq 'x'"), spec)).toThrow(/investigationState/);
    expect(() => checkFilter(parseFilter("severity eq 'high' and status/errorCode eq 0"), spec)).not.toThrow();
  });

  it('checks lambda bodies and functions', () => {
    expect(() => checkFilter(parseFilter("targetResources/any(t:t/id eq 'x')"), spec)).not.toThrow();
    expect(() => checkFilter(parseFilter("targetResources/any(t:t/type eq 'x')"), spec)).toThrow(ODataFilterError);
    expect(() => checkFilter(parseFilter("modifiedProperties/any(t:t/id eq 'x')"), spec)).toThrow(ODataFilterError);
    expect(() => checkFilter(parseFilter("contains(severity, 'h')"), spec)).toThrow(/contains/);
  });
});
