import type { RawRecord } from './types';

/**
 * Records loaded from files (or NDJSON control requests) keep the exact text they came in, and a
 * content blob serves that text verbatim: a number beyond a double's precision (an Id, a size) or an
 * odd spacing reaches the client exactly as Microsoft would have sent it, not as JSON.parse +
 * JSON.stringify would rewrite it. Records built in code (scenarios, the generator) have no text and
 * are serialized as usual.
 */

const texts = new WeakMap<RawRecord, string>();

/** The text a record was loaded from, when it was loaded from text and has no `_sim*` field. */
export function rawTextOf(record: RawRecord): string | undefined {
  return texts.get(record);
}

/** Parses one record's JSON text and remembers the text (unless `_sim*` fields make it a directive). */
export function parseRawRecord(text: string): RawRecord {
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('a record must be a JSON object');
  const record = value as RawRecord;
  // A record with simulator directives is served without them, so it cannot be served verbatim.
  if (!Object.keys(record).some((k) => k.startsWith('_sim'))) texts.set(record, text.trim());
  return record;
}

/**
 * The elements of a JSON array as their own texts, without parsing them: a scan that tracks strings
 * (with escapes) and nesting depth and cuts at the top-level commas.
 */
export function splitJsonArray(text: string): string[] {
  const s = text.trim();
  if (!s.startsWith('[') || !s.endsWith(']')) throw new Error('expected a JSON array');
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 1;
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  const last = s.slice(start, s.length - 1);
  if (last.trim() || out.length) out.push(last);
  return out.map((e) => e.trim());
}

/** NDJSON (one record per line) or a JSON array of records, each keeping its text. */
export function parseRecordsText(text: string, where = 'input'): RawRecord[] {
  if (text.trimStart().startsWith('[')) {
    JSON.parse(text); // fails on a malformed array with JSON.parse's own message
    return splitJsonArray(text).map((element, i) => {
      try {
        return parseRawRecord(element);
      } catch (e) {
        throw new Error(`${where}: element ${i + 1}: ${(e as Error).message}`);
      }
    });
  }
  const out: RawRecord[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(parseRawRecord(line));
    } catch (e) {
      throw new Error(`${where}:${i + 1}: not a JSON record (${(e as Error).message})`);
    }
  });
  return out;
}
