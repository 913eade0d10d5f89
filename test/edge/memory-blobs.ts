/**
 * In-memory blob store: the tests' storage, and what the in-memory builder writes to. A fake,
 * so it lives with the tests; it passes the same reader contract as the real drivers.
 */
import { blobKey } from "../../common/storage/layout.ts";
import type { BlobBody, BlobInfo, BlobReader, ByteRange } from "../../edge/storage/types.ts";

export class MemoryBlobStore implements BlobReader {
  readonly blobs = new Map<string, Uint8Array>();
  readonly records = new Map<string, Uint8Array>();

  put(digest: string, bytes: Uint8Array): void {
    blobKey(digest); // same refusal of non-digests as every other driver
    this.blobs.set(digest, bytes);
  }

  putRecord(key: string, value: unknown): void {
    this.records.set(key, new TextEncoder().encode(JSON.stringify(value)));
  }

  async readRecord(key: string): Promise<Uint8Array | null> {
    return this.records.get(key) ?? null;
  }

  async stat(digest: string): Promise<BlobInfo | null> {
    blobKey(digest);
    const bytes = this.blobs.get(digest);
    return bytes ? { digest, size: bytes.byteLength } : null;
  }

  async get(digest: string, range?: ByteRange): Promise<BlobBody | null> {
    blobKey(digest);
    const bytes = this.blobs.get(digest);
    if (!bytes) return null;
    const slice = range ? bytes.subarray(range.start, range.end + 1) : bytes;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(slice.slice());
        controller.close();
      },
    });
    return range ? { digest, size: bytes.byteLength, stream, range } : { digest, size: bytes.byteLength, stream };
  }
}
