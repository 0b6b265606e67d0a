import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * OpenAPI names a schema after its class: two DTO classes with one name would silently become one schema
 * (the last one registered wins), documenting one of the routes wrongly. Path and query parameter classes
 * (`…Param`, `…Params`, `…QueryDto`) are spelled out per route, not shared schemas.
 */
const PARAMETERS = /(Params?|QueryDto)$/;
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('DTO class names', () => {
  it('are unique across the API, so each is its own OpenAPI schema', () => {
    const root = join(__dirname, '..');
    const seen = new Map<string, string[]>();
    for (const file of files(root)) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('@nestjs/swagger')) continue;
      for (const [, name] of text.matchAll(/^export class (\w+)/gm)) if (!PARAMETERS.test(name)) seen.set(name, [...(seen.get(name) ?? []), relative(root, file)]);
    }
    const duplicates = [...seen].filter(([, where]) => where.length > 1);
    expect(duplicates).toEqual([]);
  });
});
