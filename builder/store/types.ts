import type { Readable } from "node:stream";

/** Metadata of a stored object. */
export interface ObjectStat {
  size: number;
}

/** A byte range, both ends inclusive (as in HTTP `Range: bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The builder's object store: content-addressed blobs plus small JSON records, under the
 * layout in common/storage/layout.ts. Every write is atomic: a reader sees a whole object or none.
 * Implementations: filesystem (embedded default) and S3 (R2, AWS, any S3 API); both pass
 * test/integration/store-contract.ts.
 */
export interface BlobStore {
  /** Size of a blob, or null when absent. */
  statBlob(digest: string): Promise<ObjectStat | null>;
  /** A blob's bytes (optionally a range), or null when absent. */
  readBlob(digest: string, range?: ByteRange): Promise<Readable | null>;
  /**
   * Stores the file at `file` (already written and hashed by the caller) as the blob
   * `digest`. Idempotent: an existing blob is left alone. The file is left in place.
   */
  putBlobFile(digest: string, file: string, mediaType: string): Promise<void>;
  /** Stores small bytes (configs, manifests) as the blob `digest`. Idempotent. */
  putBlobBytes(digest: string, bytes: Uint8Array, mediaType: string): Promise<void>;
  /** A JSON record under `key` (e.g. layers/<key>.json), or null when absent. */
  getRecord<T>(key: string): Promise<T | null>;
  /** Writes a JSON record atomically, replacing any earlier one. */
  putRecord(key: string, value: unknown): Promise<void>;
  /**
   * Removes what crashed writers left in the store's own scratch space, untouched for
   * `ageMs`; returns how many. Absent when the store has none (S3 writes are atomic uploads).
   */
  sweepTemp?(ageMs: number): Promise<number>;
}
