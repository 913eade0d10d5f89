/** The builder's object store, made from the one storage configuration (common/storage/config.ts). */
import { storageConfigFromEnv, type Env, type StorageConfig } from "../../common/storage/config.ts";
import type { CredentialsProvider } from "../../common/storage/s3.ts";
import { FsBlobStore } from "./fs.ts";
import { S3BlobStore } from "./s3.ts";
import type { BlobStore } from "./types.ts";

export { FsBlobStore } from "./fs.ts";
export { S3BlobStore, type S3StoreOptions } from "./s3.ts";
export { InvalidKeyError, RangeNotSatisfiableError } from "./keys.ts";
export type { BlobStore, ByteRange, ObjectStat } from "./types.ts";

/**
 * S3BlobStore when the configuration names a bucket, else FsBlobStore in its data folder;
 * either holds the layout under the configured prefix. `credentials` is the provider the
 * entry point shares with the edge; without one, static keys or the SDK's own default chain.
 */
export function createStore(config: StorageConfig, credentials?: CredentialsProvider): BlobStore {
  if (!config.s3) return new FsBlobStore(config.dataDir, config.prefix);
  const { endpoint, region, bucket, pathStyle } = config.s3;
  const creds = credentials ?? config.credentials;
  return new S3BlobStore({ endpoint, region, bucket, prefix: config.prefix, forcePathStyle: pathStyle ?? true, ...(creds ? { credentials: creds } : {}) });
}

/** createStore of the environment's configuration (README's configuration table). */
export function createStoreFromEnv(env: Env = process.env): BlobStore {
  return createStore(storageConfigFromEnv(env));
}
