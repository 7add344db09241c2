/** Where a record's rendered JSON sits in a `JsonArena` (chunk -1: not rendered yet). */
export interface ArenaSlot {
  jsonChunk: number;
  jsonStart: number;
  jsonEnd: number;
}

/**
 * Rendered message JSON, kept in a few large buffers. History never changes once stored, and
 * serialising a 1000-message page was most of the emulator's time per page; one small Buffer
 * per message instead made a million of them for the collector to chase.
 */
export class JsonArena {
  private static readonly CHUNK = 16 * 1024 * 1024;
  private chunks: Buffer[] = [];
  private used = JsonArena.CHUNK;

  /** Stores the text and records where on the message (numbers only: nothing to collect). */
  store(record: ArenaSlot, text: string): void {
    const length = Buffer.byteLength(text);
    if (this.used + length > JsonArena.CHUNK) {
      this.chunks.push(Buffer.allocUnsafeSlow(Math.max(JsonArena.CHUNK, length)));
      this.used = 0;
    }
    record.jsonChunk = this.chunks.length - 1;
    record.jsonStart = this.used;
    this.used += this.chunks[record.jsonChunk]!.write(text, this.used);
    record.jsonEnd = this.used;
  }

  view(record: ArenaSlot): Buffer {
    return this.chunks[record.jsonChunk]!.subarray(record.jsonStart, record.jsonEnd);
  }

  clear(): void {
    this.chunks = [];
    this.used = JsonArena.CHUNK;
  }
}
