import { createLogger } from './logger';
import { serializeError } from './error-serializer';

describe('serializeError', () => {
  it('keeps type, message, stack, code and own fields of an error', () => {
    const error = Object.assign(new TypeError('bad input'), { code: 'E_BAD', tenantId: 't1', attempt: 2 });
    const out = serializeError(error);
    expect(out).toMatchObject({ type: 'TypeError', message: 'bad input', code: 'E_BAD', tenantId: 't1', attempt: 2 });
    expect(out.stack).toMatch(/^TypeError: bad input\n\s+at /);
  });

  it('follows the cause chain, through an AggregateError and into non-Error causes', () => {
    const root = new RangeError('disk full');
    const aggregate = new AggregateError([new Error('first', { cause: root }), 'a plain string', 42], 'both writes failed');
    const top = new Error('saving failed', { cause: aggregate });
    const out = serializeError(top);
    expect(out).toMatchObject({
      type: 'Error',
      message: 'saving failed',
      cause: {
        type: 'AggregateError',
        message: 'both writes failed',
        errors: [
          { type: 'Error', message: 'first', cause: { type: 'RangeError', message: 'disk full', stack: expect.stringContaining('RangeError: disk full') } },
          'a plain string',
          42,
        ],
      },
    });
  });

  it('survives circular references in fields and in the cause chain', () => {
    const error = new Error('loop') as Error & { self?: unknown; context?: Record<string, unknown> };
    const context: Record<string, unknown> = { name: 'ctx' };
    context.back = context;
    error.self = error;
    error.context = context;
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    const out = serializeError(error);
    expect(out).toMatchObject({ type: 'Error', message: 'loop', self: '[Circular]', context: { name: 'ctx', back: '[Circular]' } });
    expect(serializeError(a)).toMatchObject({ message: 'a', cause: { message: 'b', cause: '[Circular]' } });
    expect(() => JSON.stringify(out)).not.toThrow();
  });

  it('describes what is thrown that is not an error', () => {
    expect(serializeError('just text')).toEqual({ type: 'string', message: 'just text' });
    expect(serializeError(undefined)).toEqual({ type: 'undefined', message: 'undefined' });
    expect(serializeError(null)).toEqual({ type: 'null', message: 'null' });
    expect(serializeError(7)).toEqual({ type: 'number', message: '7' });
    expect(serializeError({ status: 'weird', message: 'custom object' })).toEqual({ type: 'Object', message: 'custom object', status: 'weird' });
    expect(serializeError(Object.create(null))).toEqual({ type: 'Object', message: 'a thrown Object' });
    expect(serializeError([1, 'two'])).toEqual({ type: 'Array', message: '1,two', items: [1, 'two'] });
    expect(serializeError(Symbol('s'))).toEqual({ type: 'symbol', message: 'Symbol(s)' });
  });

  it('never throws on hostile errors: throwing getters, endless depth, huge messages', () => {
    const hostile = new Error('hostile');
    Object.defineProperty(hostile, 'trap', {
      enumerable: true,
      get: () => {
        throw new Error('gotcha');
      },
    });
    Object.defineProperty(hostile, 'stack', {
      get: () => {
        throw new Error('no stack');
      },
    });
    expect(serializeError(hostile)).toEqual({ type: 'Error', message: 'hostile', trap: '[Unreadable]' });

    let deep: Error = new Error('bottom');
    for (let i = 0; i < 50; i++) deep = new Error(`level ${i}`, { cause: deep });
    let link: unknown = serializeError(deep);
    let levels = 0;
    while (typeof link === 'object' && link && 'cause' in link) {
      link = (link as { cause: unknown }).cause;
      levels++;
    }
    expect(link).toBe('[Too deep]');
    expect(levels).toBeLessThan(10);

    expect(serializeError(new Error('x'.repeat(100_000))).message.length).toBeLessThan(5000);
  });

  it("is the logger's err serializer, and redaction still applies to the fields it keeps", () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
    const error = Object.assign(new Error('login failed', { cause: new Error('inner') }), { password: 'hunter2' }) as Error & { loop?: unknown };
    error.loop = error;
    logger.error({ err: error, errorId: 'e1' }, 'unexpected error e1');
    expect(lines[0]).toMatchObject({
      errorId: 'e1',
      err: { type: 'Error', message: 'login failed', loop: '[Circular]', cause: { type: 'Error', message: 'inner' }, password: '[REDACTED]' },
    });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });
});
