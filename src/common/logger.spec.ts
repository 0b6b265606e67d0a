import { createLogger, PinoNestLogger } from './logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('debug', { write: (line: string) => lines.push(JSON.parse(line)) });
  return { lines, nest: new PinoNestLogger(logger), logger };
}

describe('logging', () => {
  it('redacts credentials at any of the first levels', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer cdn_x', cookie: 'c' } },
        secret: 's1',
        body: { password: 'p', credential: { privateKey: 'k', clientSecret: 'cs' } },
        token: 't',
      },
      'hello',
    );
    const text = JSON.stringify(lines);
    for (const value of ['cdn_x', '"s1"', '"p"', '"k"', '"cs"', '"t"', '"c"']) expect(text).not.toContain(value);
    expect(text).toContain('[REDACTED]');
  });

  it('maps Nest calls: fields and message, with the context last', () => {
    const { lines, nest } = capture();
    nest.log({ tenantId: 'x' }, 'probed', 'TenantService');
    nest.warn('plain text', 'Ctx');
    nest.error('failed', 'Error: boom\n at x', 'Ctx');
    expect(lines[0]).toMatchObject({ level: 'info', tenantId: 'x', msg: 'probed', context: 'TenantService' });
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'plain text', context: 'Ctx' });
    expect(lines[2]).toMatchObject({ level: 'error', msg: 'failed', context: 'Ctx', stack: 'Error: boom\n at x' });
  });
});
