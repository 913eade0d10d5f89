/**
 * The edge's blob reader made from the one storage configuration (common/storage/config.ts),
 * the same way on Workers and Node: an R2 binding when there is one, else the S3 bucket, else
 * the runtime's local store; then the redirect, to the public URL or to presigned URLs. Every
 * reader and redirect uses the configured prefix, the one the builder writes under.
 */
import type { StorageConfig } from "../../common/storage/config.ts";
import { staticCredentials, type CredentialsProvider } from "../../common/storage/s3.ts";
import { publicBlobURL } from "./public-url.ts";
import { R2BlobReader, type R2BucketLike } from "./r2.ts";
import { blobPresigner, S3BlobReader, type S3ReaderOptions } from "./s3.ts";
import { type BlobReader, withBlobURL } from "./types.ts";

export interface ReaderParts {
  /** The Worker's R2 binding. */
  r2?: R2BucketLike;
  /** The runtime's own store when there is no bucket (the Node adapter's filesystem reader). */
  local?: (config: StorageConfig) => BlobReader;
  /** Where S3 credentials come from; default: the configuration's static ones. */
  credentials?: CredentialsProvider;
  /** Presigned URLs' signing window in seconds. */
  windowSeconds?: number;
}

export function blobReaderFor(config: StorageConfig, parts: ReaderParts = {}): BlobReader {
  const s3 = s3Options(config, parts);
  let reader: BlobReader;
  if (parts.r2) reader = new R2BlobReader(parts.r2, config.prefix);
  else if (s3) reader = new S3BlobReader(s3);
  else if (parts.local) reader = parts.local(config);
  else throw new Error("no blob storage: bind an R2 bucket as BLOBS or set the S3_* variables");
  if (config.publicBlobURL) return withBlobURL(reader, publicBlobURL(config.publicBlobURL, config.prefix));
  // R2 bindings cannot presign; R2's S3 endpoint can, for the same objects.
  if (parts.r2 && s3) return withBlobURL(reader, blobPresigner(s3));
  return reader;
}

export function s3Options(config: StorageConfig, parts: ReaderParts): S3ReaderOptions | null {
  const credentials = parts.credentials ?? (config.credentials ? staticCredentials(config.credentials) : undefined);
  if (!config.s3 || !credentials) return null;
  const o: S3ReaderOptions = { location: config.s3, prefix: config.prefix, credentials };
  if (parts.windowSeconds) o.windowSeconds = parts.windowSeconds;
  return o;
}
