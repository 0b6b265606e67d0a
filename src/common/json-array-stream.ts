/**
 * Splits a JSON document whose top level is an array into the text of each element, as the bytes
 * arrive, so a large array (a Management Activity content blob: tens of MB of audit records) is
 * never held or parsed whole. Only the array's own structure is checked here (the opening `[`,
 * commas, the closing `]`, nothing after it); each element is left for `JSON.parse`, which judges
 * its syntax.
 *
 * It works on bytes: the characters it looks for (`[ ] { } " \ ,` and whitespace) are ASCII, and in
 * UTF-8 no byte of a multi-byte character is below 0x80, so an element's bytes are cut exactly and
 * decoded once whole (a character split between two chunks is never decoded in halves).
 */

const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COMMA = 0x2c; // ,
const UTF8_BOM = [0xef, 0xbb, 0xbf];

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function indexOrEnd(bytes: Buffer, byte: number, from: number): number {
  const at = bytes.indexOf(byte, from);
  return at === -1 ? bytes.length : at;
}

/** The document is not a JSON array, or an element is larger than allowed. */
export class JsonArrayStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonArrayStreamError';
  }
}

export interface JsonArraySplitterOptions {
  /** An element larger than this fails the document (bounds memory against a runaway element). */
  maxElementBytes?: number;
}

type State = 'start' | 'first' | 'element' | 'after' | 'next' | 'done';

/** The incremental splitter: `push` each chunk, take the complete elements it answers, `end` once. */
export class JsonArraySplitter {
  private readonly maxElementBytes: number;
  private state: State = 'start';
  /** Bytes of the current element seen in earlier chunks. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private bomSeen = 0;
  private offset = 0;

  constructor(options: JsonArraySplitterOptions = {}) {
    this.maxElementBytes = options.maxElementBytes ?? 64 * 1024 * 1024;
  }

  /** The texts of the elements completed by this chunk, in order. */
  push(chunk: Uint8Array): string[] {
    return this.pushBytes(chunk).map((element) => element.toString('utf8'));
  }

  /**
   * The UTF-8 bytes of the elements completed by this chunk, in order: for a caller that holds
   * elements a while before parsing them, outside the JavaScript heap (an element that came in one
   * chunk is a view of that chunk).
   */
  pushBytes(chunk: Uint8Array): Buffer[] {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let start = this.state === 'element' ? 0 : -1; // where the current element begins in this chunk
    let nextQuote = -1;
    let nextBackslash = -1;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      switch (this.state) {
        case 'element': {
          if (this.inString) {
            if (this.escaped) {
              this.escaped = false; // this byte is escaped, whatever it is
              break;
            }
            // Most of a record is string content: jump to the next quote or backslash (native searches).
            if (nextBackslash < i) nextBackslash = indexOrEnd(bytes, BACKSLASH, i);
            if (nextQuote < i) nextQuote = indexOrEnd(bytes, QUOTE, i);
            if (nextBackslash < nextQuote) {
              i = nextBackslash;
              this.escaped = true;
            } else if (nextQuote === bytes.length) {
              i = bytes.length; // the string goes on in the next chunk
            } else {
              i = nextQuote;
              this.inString = false;
              if (this.depth === 0) {
                out.push(this.take(bytes, start, i + 1)); // a string element ends with its quote
                this.state = 'after';
              }
            }
            break;
          }
          if (byte === QUOTE) this.inString = true;
          else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) this.depth += 1;
          else if (this.depth > 0 && (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY)) {
            this.depth -= 1;
            if (this.depth === 0) {
              out.push(this.take(bytes, start, i + 1));
              this.state = 'after';
            }
          } else if (this.depth === 0 && (byte === COMMA || byte === CLOSE_ARRAY || isWhitespace(byte))) {
            // The end of a number, true, false or null: the byte belongs to the array again.
            out.push(this.take(bytes, start, i));
            this.state = 'after';
            i -= 1;
          }
          break;
        }
        case 'after':
          if (byte === COMMA) this.state = 'next';
          else if (byte === CLOSE_ARRAY) this.state = 'done';
          else if (!isWhitespace(byte)) this.fail(i, 'expected "," or "]" after an element');
          break;
        case 'first':
        case 'next':
          if (isWhitespace(byte)) break;
          if (byte === CLOSE_ARRAY && this.state === 'first') {
            this.state = 'done';
            break;
          }
          if (byte === COMMA || byte === CLOSE_ARRAY) this.fail(i, 'expected an element');
          this.state = 'element';
          start = i;
          i -= 1; // the element's first byte is scanned as part of it
          break;
        case 'start':
          if (this.bomSeen < UTF8_BOM.length && this.offset + i === this.bomSeen && byte === UTF8_BOM[this.bomSeen]) this.bomSeen += 1;
          else if (byte === OPEN_ARRAY) this.state = 'first';
          else if (!isWhitespace(byte)) this.fail(i, 'the document is not a JSON array');
          break;
        case 'done':
          if (!isWhitespace(byte)) this.fail(i, 'unexpected content after the end of the array');
          break;
      }
    }
    if (this.state === 'element') this.keep(bytes.subarray(start));
    this.offset += bytes.length;
    return out;
  }

  /** Call at the end of the document: fails unless the array was closed. */
  end(): void {
    if (this.state !== 'done')
      throw new JsonArrayStreamError(
        this.state === 'start' ? 'the document is empty, not a JSON array' : `the JSON array ends early (after ${this.offset} bytes)`,
      );
  }

  private take(bytes: Buffer, start: number, end: number): Buffer {
    const tail = bytes.subarray(start, end);
    this.checkSize(this.partBytes + tail.length);
    if (this.parts.length === 0) return tail;
    const whole = Buffer.concat([...this.parts, tail]);
    this.parts = [];
    this.partBytes = 0;
    return whole;
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.checkSize(this.partBytes + bytes.length);
    // A copy: the chunk's memory may be reused by whoever handed it over.
    this.parts.push(Buffer.from(bytes));
    this.partBytes += bytes.length;
  }

  private checkSize(size: number): void {
    if (size > this.maxElementBytes) throw new JsonArrayStreamError(`an element of the JSON array exceeds ${this.maxElementBytes} bytes`);
  }

  private fail(index: number, why: string): never {
    throw new JsonArrayStreamError(`${why} (at byte ${this.offset + index})`);
  }
}

/** The elements' texts of a JSON array read from a byte stream (an HTTP body), in order. */
export async function* jsonArrayElements(chunks: AsyncIterable<Uint8Array>, options?: JsonArraySplitterOptions): AsyncGenerator<string> {
  for await (const element of jsonArrayElementBytes(chunks, options)) yield element.toString('utf8');
}

/** The elements' UTF-8 bytes of a JSON array read from a byte stream, in order (see `pushBytes`). */
export async function* jsonArrayElementBytes(chunks: AsyncIterable<Uint8Array>, options?: JsonArraySplitterOptions): AsyncGenerator<Buffer> {
  const splitter = new JsonArraySplitter(options);
  for await (const chunk of chunks) {
    yield* splitter.pushBytes(chunk);
  }
  splitter.end();
}
