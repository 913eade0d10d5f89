/** The builder's object store, chosen from the environment. */
import { FsBlobStore } from "./fs.ts";
import { S3BlobStore } from "./s3.ts";
import type { BlobStore, BlobURLSigner } from "./types.ts";

export { FsBlobStore } from "./fs.ts";
export { S3BlobStore, type S3StoreOptions } from "./s3.ts";
export { InvalidKeyError, RangeNotSatisfiableError } from "./keys.ts";
export type { BlobStore, BlobURLSigner, ByteRange, ObjectStat } from "./types.ts";

export type Env = Record<string, string | undefined>;

/**
 * S3BlobStore when NIXPORT_S3_BUCKET is set (NIXPORT_S3_ENDPOINT, NIXPORT_S3_REGION default
 * us-east-1, NIXPORT_S3_PREFIX; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the SDK's own
 * credential chain); otherwise FsBlobStore in NIXPORT_DATA, default ./data.
 */
export function createStoreFromEnv(env: Env = process.env): BlobStore {
  const bucket = env.NIXPORT_S3_BUCKET;
  const endpoint = env.NIXPORT_S3_ENDPOINT || undefined;
  // An endpoint without a bucket is a half-done configuration, not a wish for local files.
  if (endpoint && !bucket) throw new Error("NIXPORT_S3_ENDPOINT is set but NIXPORT_S3_BUCKET is not");
  if (!bucket) return new FsBlobStore(env.NIXPORT_DATA || "./data");
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return new S3BlobStore({
    endpoint,
    region: env.NIXPORT_S3_REGION || "us-east-1",
    bucket,
    prefix: env.NIXPORT_S3_PREFIX || undefined,
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined }
        : undefined,
    // A custom endpoint (R2, MinIO, Swift) nearly always wants path-style addressing.
    forcePathStyle: endpoint !== undefined,
  });
}

/** The store's presigner when it has one (S3), so blob GETs can be redirected. */
export function urlSignerOf(store: BlobStore): BlobURLSigner | null {
  const s = store as Partial<BlobURLSigner>;
  return typeof s.presignGet === "function" ? (s as BlobURLSigner) : null;
}
