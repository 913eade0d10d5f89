/**
 * The Cloudflare Workers entry: builds the edge's dependencies from the Worker's bindings
 * (wrangler.toml) once per isolate and hands every request to the Hono app.
 *
 *   BLOBS            R2 binding (or the S3_* vars for any S3 store)
 *   TAGS             KV namespace, tag → manifest cache (behind the Cache API)
 *   BUILDER_URLS     builder base URLs, comma or space separated
 *   BUILDER_TOKEN    secret sent to the builders
 *   BUILDER_ALLOW_PLAINTEXT  "1" lets BUILDER_URLS use plain http:// beyond loopback
 *   PLATFORMS         platforms a name without amd64/ or arm64/ is built for (linux/amd64,linux/arm64:
 *                     a pull by tag gets an image index; default linux/amd64)
 *   PULL_WAIT_SECONDS how long a pull waits for its build before a 503 with Retry-After
 *   MAX_BUILDS_PER_CLIENT distinct builds one client address may have in flight (429 past it)
 *   PULL_CREDENTIALS, PULL_TOKEN_SECRET  optional pull authentication (secrets)
 *   PUBLIC_BLOB_URL  public / custom-domain bucket URL to redirect blob GETs to
 *   S3_ENDPOINT S3_BUCKET S3_REGION S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY (secret) S3_PATH_STYLE
 *                    S3 reads, or (with BLOBS) only presigning against R2's S3 endpoint
 *   S3_PREFIX        the layout's folder in the bucket (the builder's NIXPORT_S3_PREFIX), for
 *                    R2, S3 and public-URL redirects alike
 */
import { parsePlatforms } from "../../common/platforms.ts";
import { isLoopbackHost } from "../../common/loopback.ts";
import { createApp, type EdgeDeps } from "../app.ts";
import { parseCredentials, PullAuth } from "../auth.ts";
import { connectBuilder } from "../builder/connect.ts";
import { routedBuilder } from "../builder/chooser.ts";
import { errorResponse, errors } from "../errors.ts";
import { type BuilderClient, type BuilderFactory, noBuilder } from "../builder/client.ts";
import { CacheApiTagCache, type CacheLike, KVTagCache, type KVNamespaceLike, type TagCache, TieredTagCache } from "../cache.ts";
import { storageConfigFromWorker, type WorkerStorageVars } from "../../common/storage/config.ts";
import { blobReaderFor } from "../storage/from-config.ts";
import { cacheRecords } from "../storage/records.ts";
import type { R2BucketLike } from "../storage/r2.ts";
import type { BlobReader } from "../storage/types.ts";

export interface WorkerEnv extends WorkerStorageVars {
  BLOBS?: R2BucketLike;
  TAGS?: KVNamespaceLike;
  BUILDER_URLS?: string;
  BUILDER_TOKEN?: string;
  /** "1": allow plain http:// builder URLs beyond loopback (a private network). */
  BUILDER_ALLOW_PLAINTEXT?: string;
  SIGNED_URL_WINDOW_SECONDS?: string;
  SOURCE?: string;
  TAG_STALE_SECONDS?: string;
  /** Optional pull authentication: `user:password,…` (a secret) and the token signing key (a secret). */
  PULL_CREDENTIALS?: string;
  PULL_TOKEN_SECRET?: string;
  /** How long a pull waits for its build before a 503 with Retry-After (default 60). */
  PULL_WAIT_SECONDS?: string;
  PLATFORMS?: string;
  /** Distinct builds one client address (CF-Connecting-IP) may have in flight (default: no cap). */
  MAX_BUILDS_PER_CLIENT?: string;
}

export function blobReaderFromEnv(env: WorkerEnv): BlobReader {
  const window = Number(env.SIGNED_URL_WINDOW_SECONDS);
  return blobReaderFor(storageConfigFromWorker(env), { ...(env.BLOBS ? { r2: env.BLOBS } : {}), ...(window > 0 ? { windowSeconds: window } : {}) });
}

export function tagCacheFromEnv(env: WorkerEnv, staleSeconds: number): TagCache {
  const tiers: TagCache[] = [];
  const cacheApi = (globalThis as { caches?: { default?: CacheLike } }).caches?.default;
  if (cacheApi) tiers.push(new CacheApiTagCache(cacheApi, staleSeconds));
  if (env.TAGS) tiers.push(new KVTagCache(env.TAGS, staleSeconds));
  return new TieredTagCache(tiers);
}

export function builderFromEnv(env: WorkerEnv, makeBuilder: BuilderFactory): BuilderClient {
  const urls = (env.BUILDER_URLS ?? "").split(/[\s,]+/).filter(Boolean);
  if (urls.length === 0) return noBuilder;
  for (const u of urls) checkBuilderURL(u, env.BUILDER_ALLOW_PLAINTEXT === "1");
  return routedBuilder(new Map(urls.map((u) => [u, makeBuilder(u, env.BUILDER_TOKEN)])));
}

/**
 * A builder URL the edge may send its token to: https, or http on loopback; plain http
 * elsewhere only when BUILDER_ALLOW_PLAINTEXT=1 says the network is private.
 */
export function checkBuilderURL(url: string, allowPlaintext: boolean): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`BUILDER_URLS: ${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol === "https:") return;
  if (u.protocol !== "http:") throw new Error(`BUILDER_URLS: ${u.protocol} is not http: or https:`);
  if (isLoopbackHost(u.hostname) || allowPlaintext) return;
  throw new Error(`BUILDER_URLS: ${u.host} is reached over plain http, which would send BUILDER_TOKEN in clear: use https (the builder's NIXPORT_GRPC_TLS_CERT/KEY), or set BUILDER_ALLOW_PLAINTEXT=1 for a private network`);
}

export function depsFromEnv(env: WorkerEnv, makeBuilder: BuilderFactory): EdgeDeps {
  const staleSeconds = Number(env.TAG_STALE_SECONDS) || 86_400;
  const config: EdgeDeps["config"] = { staleSeconds };
  if (env.SOURCE) config.source = env.SOURCE;
  if (Number(env.PULL_WAIT_SECONDS) > 0) config.pullWaitSeconds = Number(env.PULL_WAIT_SECONDS);
  if (Number(env.MAX_BUILDS_PER_CLIENT) > 0) config.maxBuildsPerClient = Number(env.MAX_BUILDS_PER_CLIENT);
  config.platforms = parsePlatforms(env.PLATFORMS, ["amd64"]);
  const blobs = blobReaderFromEnv(env);
  const records = cacheRecords(blobs);
  const deps: EdgeDeps = {
    ...(records ? { records } : {}),
    blobs,
    builder: builderFromEnv(env, makeBuilder),
    tagCache: tagCacheFromEnv(env, staleSeconds),
    config,
    // The address Cloudflare saw; a client cannot set it (Cloudflare overwrites the header).
    clientAddress: (c) => c.req.header("cf-connecting-ip"),
  };
  const users = parseCredentials(env.PULL_CREDENTIALS);
  if (users.size) {
    if (!env.PULL_TOKEN_SECRET) throw new Error("PULL_CREDENTIALS is set but the PULL_TOKEN_SECRET secret is not");
    deps.auth = new PullAuth({ users, secret: env.PULL_TOKEN_SECRET });
  }
  return deps;
}

/**
 * A Worker whose builders are made by makeBuilder. One app per env object, i.e. per isolate,
 * so the in-flight build map and recent builds are shared by its concurrent requests.
 */
export function createWorker(makeBuilder: BuilderFactory) {
  const apps = new WeakMap<object, ReturnType<typeof createApp>>();
  return {
    fetch(request: Request, env: WorkerEnv): Response | Promise<Response> {
      let app = apps.get(env);
      if (!app) {
        try {
          app = createApp(depsFromEnv(env, makeBuilder));
        } catch (err) {
          // A misconfigured Worker still answers in the registry's own error format.
          return errorResponse(errors.internal(err instanceof Error ? err.message : String(err)));
        }
        apps.set(env, app);
      }
      return app.fetch(request, env);
    },
  };
}

// Each builder URL in BUILDER_URLS gets a Connect (gRPC-web) client carrying BUILDER_TOKEN.
export default createWorker((url, token) => connectBuilder({ baseUrl: url, token }));
