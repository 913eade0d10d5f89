/**
 * How the edge reads the small JSON records the builder writes for the Nix binary cache
 * (nix-cache/<hash>.json, nix-cache/public-key.json), through the same storage as blobs: an R2
 * binding, the S3 API, or the Node adapter's filesystem. Only keys under nix-cache/ are read:
 * the layer and image records are the builder's own business.
 */
import { AwsClient } from "aws4fetch";
import type { StorageConfig } from "../../common/storage/config.ts";
import { StorageError } from "../../common/storage/errors.ts";
import { InvalidKeyError } from "../../common/storage/layout.ts";
import { objectURL } from "../../common/storage/s3.ts";
import { s3Options, type ReaderParts } from "./from-config.ts";
import type { R2BucketLike } from "./r2.ts";
import type { S3ReaderOptions } from "./s3.ts";

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

export class R2RecordReader implements RecordReader {
  constructor(
    private readonly bucket: R2BucketLike,
    private readonly prefix = "",
  ) {}

  async getRecord<T>(key: string): Promise<T | null> {
    const full = this.prefix + cacheRecordKey(key);
    let bytes: Uint8Array | null;
    try {
      const obj = await this.bucket.get(full);
      bytes = obj ? new Uint8Array(await new Response(obj.body).arrayBuffer()) : null;
    } catch (err) {
      throw new StorageError(`R2 get ${full}: ${(err as Error).message}`, { cause: err });
    }
    return bytes ? parseRecord<T>(key, bytes) : null;
  }
}

export class S3RecordReader implements RecordReader {
  constructor(private readonly o: S3ReaderOptions) {}

  async getRecord<T>(key: string): Promise<T | null> {
    const url = objectURL(this.o.location, (this.o.prefix ?? "") + cacheRecordKey(key));
    const client = new AwsClient({ ...(await this.o.credentials()), service: "s3", region: this.o.location.region, retries: 0 });
    let res: Response;
    try {
      res = await client.fetch(url);
    } catch (err) {
      throw new StorageError(`S3 GET ${key}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new StorageError(`S3 GET ${key}: ${res.status}`);
    }
    return parseRecord<T>(key, new Uint8Array(await res.arrayBuffer()));
  }
}

/** The record reader beside blobReaderFor's blob reader: the same storage, the same prefix. */
export function recordReaderFor(config: StorageConfig, parts: ReaderParts & { localRecords?: (config: StorageConfig) => RecordReader } = {}): RecordReader | undefined {
  if (parts.r2) return new R2RecordReader(parts.r2, config.prefix);
  const s3 = s3Options(config, parts);
  if (s3) return new S3RecordReader(s3);
  return parts.localRecords?.(config);
}
