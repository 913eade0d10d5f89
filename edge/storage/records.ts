/**
 * How the edge reads the small JSON records the builder writes for the Nix binary cache
 * (nix-cache/<hash>.json, nix-cache/public-key.json), through the same storage as blobs: an R2
 * binding, the S3 API, or the Node adapter's filesystem. Only keys under nix-cache/ are read:
 * the layer and image records are the builder's own business.
 */
import { StorageError } from "../../common/storage/errors.ts";
import { InvalidKeyError } from "../../common/storage/layout.ts";
import type { BlobReader } from "./types.ts";

export interface RecordReader {
  /** The record under `key` (a nix-cache/ key of the layout), or null when absent. */
  getRecord<T>(key: string): Promise<T | null>;
}

/** Records bigger than this are no narinfo: refused rather than read into memory. */
export const MAX_RECORD_BYTES = 1 << 20;
const CACHE_KEY_RE = /^nix-cache\/[a-z0-9-]{1,64}\.json$/;

/** `key` when it is a binary cache record key; InvalidKeyError otherwise (a caller's bug). */
export function cacheRecordKey(key: string): string {
  if (!CACHE_KEY_RE.test(key)) throw new InvalidKeyError(`not a binary cache record: ${JSON.stringify(key)}`);
  return key;
}

/** Parses a record's bytes; a record that is not JSON is a storage failure, not the client's. */
export function parseRecord<T>(key: string, bytes: Uint8Array): T {
  if (bytes.byteLength > MAX_RECORD_BYTES) throw new StorageError(`record ${key} is larger than ${MAX_RECORD_BYTES} bytes`);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (err) {
    throw new StorageError(`record ${key} is not JSON`, { cause: err });
  }
}

/**
 * The binary cache's records, read through the blob reader's readRecord (the same storage,
 * prefix and failure typing as blobs and referrers); absent when the reader reads no records.
 */
export function cacheRecords(blobs: BlobReader): RecordReader | undefined {
  const read = blobs.readRecord?.bind(blobs);
  if (!read) return undefined;
  return {
    async getRecord<T>(key: string): Promise<T | null> {
      const bytes = await read(cacheRecordKey(key));
      return bytes ? parseRecord<T>(key, bytes) : null;
    },
  };
}
