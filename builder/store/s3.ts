/**
 * The layout of common/storage/layout.ts in an S3 bucket (R2, AWS S3, Swift's s3api, any S3 API),
 * under an optional prefix. An S3 PUT is atomic per object, and a failed multipart upload
 * is aborted, so a reader never sees a partial blob. A call that still fails after its
 * retries is a StorageError (errors.ts).
 */
import { createReadStream, type ReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { layoutPrefix } from "../../common/storage/layout.ts";
import type { CredentialsProvider, S3Credentials } from "../../common/storage/s3.ts";
import { blobKeyOf, checkRange, RangeNotSatisfiableError, recordKeyOf } from "./keys.ts";
import { onDisk, StorageError } from "../../common/storage/errors.ts";
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from "./retry.ts";
import type { BlobStore, ByteRange, ObjectStat } from "./types.ts";

export interface S3StoreOptions {
  /** e.g. https://<account>.r2.cloudflarestorage.com; AWS's regional endpoint when absent. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Folder inside the bucket that holds the layout, e.g. "nixport" (no leading slash). */
  prefix?: string;
  /**
   * Static credentials or a provider (the one the edge's presigner uses too, see
   * common/storage/node-credentials.ts); the SDK's default chain when absent.
   */
  credentials?: S3Credentials | CredentialsProvider;
  /** Bucket in the path rather than the host name (R2 and Swift want this). */
  forcePathStyle?: boolean;
  retry?: Partial<RetryPolicy>;
  /** Files larger than this go up in multipart uploads of parts this size (min 5 MiB). */
  partSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

export class S3BlobStore implements BlobStore {
  /** The SDK client; exposed so callers can add middleware (tests inject faults with it). */
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly retry: RetryPolicy;
  private readonly partSize: number;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = layoutPrefix(options.prefix ?? "");
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? 8 * 1024 * 1024);
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      credentials: options.credentials,
      forcePathStyle: options.forcePathStyle,
      // Swift (and some other S3 APIs) reject the SDK's default streamed-upload checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      // Retries are ours (withRetry), so a failure is counted and reported once.
      maxAttempts: 1,
    });
  }

  async statBlob(digest: string): Promise<ObjectStat | null> {
    const size = await this.headSize(this.keyOf(blobKeyOf(digest)));
    return size === null ? null : { size };
  }

  async readBlob(digest: string, range?: ByteRange): Promise<Readable | null> {
    const key = this.keyOf(blobKeyOf(digest));
    checkRange(range);
    const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
    const res = await this.call(`read of ${key}`, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range })),
    ).catch((err: unknown) => {
      if (statusOf(err) === 416) throw new RangeNotSatisfiableError(`range ${range?.start}- of ${digest}`);
      return nullIfAbsent(err);
    });
    return res ? (res.Body as Readable) : null;
  }

  async putBlobFile(digest: string, file: string, mediaType: string): Promise<void> {
    const key = this.keyOf(blobKeyOf(digest));
    const source = await onDisk(() => stat(file));
    if (!source.isFile()) throw new Error(`putBlobFile ${digest}: ${file} is not a regular file`);
    if ((await this.headSize(key)) === source.size) return;
    await this.call(`upload of ${key}`, () => this.upload(key, file, source.size, mediaType));
    const stored = await this.headSize(key);
    if (stored !== source.size) throw new StorageError(`upload of ${key}: stored ${stored} of ${source.size} bytes`);
  }

  async putBlobBytes(digest: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    const key = this.keyOf(blobKeyOf(digest));
    if ((await this.headSize(key)) === bytes.byteLength) return;
    await this.put(key, bytes, mediaType);
  }

  async getRecord<T>(key: string): Promise<T | null> {
    const fullKey = this.keyOf(recordKeyOf(key));
    const text = await this.call(`read of ${fullKey}`, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey }));
      return res.Body ? res.Body.transformToString("utf-8") : "";
    }).catch(nullIfAbsent);
    return text === null ? null : (JSON.parse(text) as T);
  }

  async putRecord(key: string, value: unknown): Promise<void> {
    const fullKey = this.keyOf(recordKeyOf(key));
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`putRecord ${key}: value is not JSON`);
    await this.put(fullKey, new TextEncoder().encode(json), "application/json");
  }

  /** Ends the client's keep-alive connections. */
  destroy(): void {
    this.client.destroy();
  }

  private keyOf(layoutKey: string): string {
    return this.prefix + layoutKey;
  }

  private async headSize(key: string): Promise<number | null> {
    const res = await this.call(`stat of ${key}`, () =>
      this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
    ).catch(nullIfAbsent);
    return res ? (res.ContentLength ?? 0) : null;
  }

  private async put(key: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    await this.call(`upload of ${key}`, () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: mediaType, ContentLength: bytes.byteLength }),
      ),
    );
  }

  /** One attempt at uploading a file: a single PUT when small, else multipart (aborted on failure). */
  private async upload(key: string, file: string, size: number, mediaType: string): Promise<void> {
    const body: ReadStream = createReadStream(file);
    try {
      const params = { Bucket: this.bucket, Key: key, Body: body, ContentType: mediaType, ContentLength: size };
      if (size <= this.partSize) {
        await this.client.send(new PutObjectCommand(params));
      } else {
        await new Upload({ client: this.client, params, partSize: this.partSize, queueSize: 2 }).done();
      }
    } finally {
      body.destroy();
    }
  }

  private call<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    return withRetry(what, this.retry, isRetryable, attempt);
  }
}

/** Client errors (except timeouts and throttling) will fail the same way again. */
function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return true;
  return status >= 500 || status === 408 || status === 429;
}

function statusOf(err: unknown): number | undefined {
  const e = (err instanceof Error && err.cause !== undefined ? err.cause : err) as { $metadata?: { httpStatusCode?: number } };
  return e?.$metadata?.httpStatusCode;
}

function nullIfAbsent(err: unknown): null {
  const e = err instanceof Error && err.cause !== undefined ? err.cause : err;
  if (statusOf(err) === 404 || (e instanceof S3ServiceException && (e.name === "NoSuchKey" || e.name === "NotFound"))) {
    return null;
  }
  throw err;
}
