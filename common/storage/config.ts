/**
 * The one storage configuration of the house: where the layout lives (a folder or a bucket,
 * under which prefix), how the bucket is addressed, where credentials come from, and where
 * blob GETs redirect. The builder's store, the Node edge's reader and the Worker's reader are
 * all made from this one value: on Node from the environment, on Workers from the bindings'
 * variables and secrets.
 */
import { layoutPrefix } from "./layout.ts";
import { awsEndpoint, type S3Credentials, type S3Location } from "./s3.ts";

export interface StorageConfig {
  /** The filesystem store's folder (NIXPORT_DATA), used when there is no bucket. */
  dataDir: string;
  /** The layout's key prefix in the store, bucket or folder alike: "" or "a/b/". */
  prefix: string;
  /** The bucket, when the store is S3 (R2, AWS, any S3 API). */
  s3?: S3Location;
  /** Static credentials; absent, Node uses the AWS SDK's default chain (env, profile, role). */
  credentials?: S3Credentials;
  /** Blob GETs redirect to this public (CDN) URL of the store, unsigned. */
  publicBlobURL?: string;
}

export type Env = Record<string, string | undefined>;

/**
 * What else lives in NIXPORT_DATA: the builder's layer scratch (work/, swept of old entries),
 * GC roots, package-source mirrors, the Node edge's tag cache, the binary cache's signing key
 * (keys/), the store's own temp files. A
 * filesystem store's prefix must not put blobs among them.
 */
const DATA_FOLDERS = new Set(["work", "gcroots", "sources", "tags", "keys", ".tmp"]);

/**
 * NIXPORT_DATA (default ./data), NIXPORT_S3_BUCKET / _ENDPOINT / _REGION (default us-east-1) /
 * _PREFIX, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
 * NIXPORT_PUBLIC_BLOB_URL: the README's configuration table.
 */
export function storageConfigFromEnv(env: Env): StorageConfig {
  const bucket = env.NIXPORT_S3_BUCKET || undefined;
  const endpoint = env.NIXPORT_S3_ENDPOINT || undefined;
  // An endpoint without a bucket is a half-done configuration, not a wish for local files.
  if (endpoint && !bucket) throw new Error("NIXPORT_S3_ENDPOINT is set but NIXPORT_S3_BUCKET is not");
  const config: StorageConfig = { dataDir: env.NIXPORT_DATA || "./data", prefix: layoutPrefix(env.NIXPORT_S3_PREFIX ?? "") };
  const first = config.prefix.split("/")[0]!;
  if (!bucket && DATA_FOLDERS.has(first)) throw new Error(`NIXPORT_S3_PREFIX ${JSON.stringify(env.NIXPORT_S3_PREFIX)} would put the store in NIXPORT_DATA's own ${first}/ folder`);
  if (bucket) {
    const region = env.NIXPORT_S3_REGION || "us-east-1";
    // A custom endpoint (R2, MinIO, Swift) nearly always wants path-style addressing.
    config.s3 = { endpoint: endpoint ?? awsEndpoint(region), bucket, region, pathStyle: endpoint !== undefined };
  }
  const credentials = credentialsOf(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN);
  if (credentials) config.credentials = credentials;
  if (env.NIXPORT_PUBLIC_BLOB_URL) config.publicBlobURL = env.NIXPORT_PUBLIC_BLOB_URL;
  return config;
}

/** The Worker's storage variables (wrangler.toml [vars]; S3_SECRET_ACCESS_KEY is a secret). */
export interface WorkerStorageVars {
  S3_ENDPOINT?: string;
  S3_BUCKET?: string;
  S3_REGION?: string;
  S3_PREFIX?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  S3_PATH_STYLE?: string;
  PUBLIC_BLOB_URL?: string;
}

/**
 * The same value inside a Worker. The bucket counts only with its endpoint and both keys (a
 * Worker has no credential chain); the R2 binding, when bound, is read under the same prefix.
 */
export function storageConfigFromWorker(vars: WorkerStorageVars): StorageConfig {
  const config: StorageConfig = { dataDir: "", prefix: layoutPrefix(vars.S3_PREFIX ?? "") };
  const credentials = credentialsOf(vars.S3_ACCESS_KEY_ID, vars.S3_SECRET_ACCESS_KEY, undefined);
  if (vars.S3_ENDPOINT && vars.S3_BUCKET && credentials) {
    config.s3 = { endpoint: vars.S3_ENDPOINT, bucket: vars.S3_BUCKET, region: vars.S3_REGION || "auto", pathStyle: vars.S3_PATH_STYLE !== "false" };
    config.credentials = credentials;
  }
  if (vars.PUBLIC_BLOB_URL) config.publicBlobURL = vars.PUBLIC_BLOB_URL;
  return config;
}

function credentialsOf(accessKeyId: string | undefined, secretAccessKey: string | undefined, sessionToken: string | undefined): S3Credentials | undefined {
  if (!accessKeyId || !secretAccessKey) return undefined;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}
