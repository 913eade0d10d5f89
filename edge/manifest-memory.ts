/**
 * Manifest bytes kept in memory by digest, so a tag-cache hit is answered without reading
 * storage again: a pull's first request is the hot path of the whole registry. A digest names
 * its bytes forever, so an entry is never stale; it is only dropped to stay within the byte
 * budget (least recently used first). Only bytes read back from storage are kept, so a
 * manifest that storage lost is noticed (and rebuilt) the first time it is looked for.
 */

export class ManifestMemory {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  get(digest: string): Uint8Array | undefined {
    const hit = this.entries.get(digest);
    if (hit) {
      // Re-inserting moves it to the end: the Map's order is the recency order.
      this.entries.delete(digest);
      this.entries.set(digest, hit);
    }
    return hit;
  }

  put(digest: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxBytes / 16) return; // one huge manifest must not flush the rest
    const old = this.entries.get(digest);
    if (old) this.bytes -= old.byteLength;
    this.entries.delete(digest);
    this.entries.set(digest, bytes);
    this.bytes += bytes.byteLength;
    for (const [key, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= value.byteLength;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
