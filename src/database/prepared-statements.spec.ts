import { MAX_TEXT_LENGTH, StatementNames } from './prepared-statements';

describe('StatementNames', () => {
  it('names a statement from its third execution on, with one name per text', () => {
    const names = new StatementNames(3, 10);
    const text = 'SELECT 1 FROM actions WHERE id = $1';
    expect([names.nameFor(text), names.nameFor(text)]).toEqual([undefined, undefined]);
    const name = names.nameFor(text);
    expect(name).toMatch(/^cordon_\d+$/);
    expect(names.nameFor(text)).toBe(name);
    expect(names.nameFor(`${text} AND status = $2`)).toBeUndefined();
  });

  it('gives different texts different names', () => {
    const names = new StatementNames(1, 10);
    expect(names.nameFor('SELECT $1::int')).not.toBe(names.nameFor('SELECT $1::text'));
  });

  it('stops naming new texts at the limit and keeps the names it gave', () => {
    const names = new StatementNames(1, 2);
    const first = names.nameFor('SELECT $1::int');
    names.nameFor('SELECT $1::text');
    expect(names.nameFor('SELECT $1::bigint')).toBeUndefined();
    expect(names.nameFor('SELECT $1::int')).toBe(first);
    expect(names.size).toBe(2);
  });

  it('never names very long texts (multi-row inserts)', () => {
    const names = new StatementNames(1, 10);
    expect(names.nameFor(`SELECT $1 /* ${'x'.repeat(MAX_TEXT_LENGTH)} */`)).toBeUndefined();
  });
});
