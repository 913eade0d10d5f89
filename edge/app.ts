/**
 * The edge as one Hono app, the same on Workers and Node: createApp(deps) wires storage, the
 * builder client and the tag cache into the route table. Runtime specifics live in
 * edge/worker/worker.ts and edge/node/.
 */
import { Hono, type Context } from "hono";
import { StorageError } from "../common/storage/errors.ts";
import type { BuilderClient } from "./builder/client.ts";
import type { TagCache } from "./cache.ts";
import type { PullAuth } from "./auth.ts";
import { API_VERSION, API_VERSION_HEADER } from "./api-version.ts";
import { errorResponse, errors, RegistryError } from "./errors.ts";
import { ManifestMemory } from "./manifest-memory.ts";
import { NameCheck } from "./name-check.ts";
import { RecentBuilds } from "./recent.ts";
import { TagResolver } from "./resolve.ts";
import { baseHandler } from "./routes/base.ts";
import { blobHandler } from "./routes/blobs.ts";
import type { EdgeConfig, RouteContext } from "./routes/context.ts";
import { landingHandler } from "./routes/landing.ts";
import { cacheInfoHandler, narHandler, narInfoHandler, publicKeyHandler } from "./routes/nix-cache.ts";
import type { RecordReader } from "./storage/records.ts";
import { CACHE_STATE, manifestHandler } from "./routes/manifests.ts";
import { ALLOWED_METHODS, matchRoute } from "./routes/table.ts";
import { tagsHandler } from "./routes/tags.ts";
import { referrersHandler } from "./routes/referrers.ts";
import { rememberingPresence } from "./storage/known.ts";
import type { BlobReader } from "./storage/types.ts";

export type { EdgeConfig } from "./routes/context.ts";

export interface EdgeDeps {
  blobs: BlobReader;
  /** The binary cache's records (same store as blobs); without it the cache routes answer 404. */
  records?: RecordReader;
  builder: BuilderClient;
  tagCache: TagCache;
  config?: Partial<EdgeConfig>;
  /** Clock (ms since the epoch), for tests. */
  now?: () => number;
  /** Where failures that are not the client's fault are reported (default console.error). */
  log?: (message: string, err: unknown) => void;
  /** Pull authentication (the registry Bearer-token flow); off when absent. */
  auth?: PullAuth;
  /** The client's address, for the cap on builds per client (Worker: CF-Connecting-IP; Node: the socket's). */
  clientAddress?: (c: Context) => string | undefined;
  /** Called once per request, after the answer (the Node server logs it as one JSON line). */
  accessLog?: (entry: AccessLogEntry) => void;
}

export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
  /** hit, miss or stale for tag lookups. */
  cache?: string;
  /** The OCI error code of an error answer. */
  error?: string;
}

export const DEFAULT_CONFIG: EdgeConfig = {
  source: "nixpkgs",
  staleSeconds: 86_400,
  retryAfterSeconds: 10,
  // Under the kubelet's 2-minute runtime request timeout and the ~100 s proxies such as
  // Cloudflare's give an origin; docker, podman and containerd set no limit of their own
  // (README, "Pulls of images still building").
  pullWaitSeconds: 60,
  maxBuildsPerClient: 0,
  platforms: ["amd64"],
};

export interface EdgeApp {
  app: Hono;
  /** Builds in flight, recent builds: for tests and the landing page. */
  resolver: TagResolver;
  recent: RecentBuilds;
}

export function createEdge(deps: EdgeDeps): EdgeApp {
  const config = { ...DEFAULT_CONFIG, ...deps.config };
  const log = deps.log ?? ((message, err) => console.error(message, err));
  const recent = new RecentBuilds();
  const resolverOptions: ConstructorParameters<typeof TagResolver>[0] = {
    builder: deps.builder,
    tagCache: deps.tagCache,
    recent,
    now: deps.now ?? Date.now,
    retryAfterSeconds: config.retryAfterSeconds,
    pullWaitSeconds: config.pullWaitSeconds,
    maxBuildsPerClient: config.maxBuildsPerClient,
    onCacheError: (err) => log("tag cache failed", err),
  };
  const resolver = new TagResolver(resolverOptions);
  const rc: RouteContext = { blobs: rememberingPresence(deps.blobs), builder: deps.builder, resolver, recent, config, manifests: new ManifestMemory(), names: new NameCheck(deps.builder, deps.now ?? Date.now) };
  if (deps.clientAddress) rc.clientAddress = deps.clientAddress;
  if (deps.records) rc.records = deps.records;

  const app = new Hono();
  const accessLog = deps.accessLog;
  if (accessLog) {
    app.use("*", async (c: Context, next) => {
      const started = Date.now();
      await next();
      const entry: AccessLogEntry = { method: c.req.method, path: c.req.path.slice(0, 512), status: c.res.status, ms: Date.now() - started };
      const cache: unknown = c.get(CACHE_STATE);
      if (typeof cache === "string") entry.cache = cache;
      if (c.error instanceof RegistryError) entry.error = c.error.code;
      else if (c.error instanceof StorageError) entry.error = "UNAVAILABLE";
      accessLog(entry);
    });
  }
  if (deps.auth) app.use("*", authGate(deps.auth));
  app.all("*", (c) => dispatch(c, rc));
  app.onError((err) => {
    // Storage failing is no bug: the client retries later (its message may name host paths).
    if (err instanceof StorageError) {
      log("storage failed", err);
      return errorResponse(errors.unavailable("the registry's storage is unavailable", config.retryAfterSeconds));
    }
    if (!(err instanceof RegistryError)) log("unexpected error", err);
    return errorResponse(err);
  });
  return { app, resolver, recent };
}

/** Guards /v2/ with the token flow and answers the token endpoint; the landing page stays public. */
function authGate(auth: PullAuth) {
  return async (c: Context, next: () => Promise<void>) => {
    const url = new URL(c.req.url);
    const authorization = c.req.header("authorization");
    if (url.pathname === "/token") {
      const body = await auth.issue(authorization);
      if (!body) throw auth.challenge(url.origin);
      c.res = Response.json(body, { headers: { [API_VERSION_HEADER]: API_VERSION, "Cache-Control": "no-store" } });
      return;
    }
    if (url.pathname.startsWith("/v2") && !(await auth.allows(authorization))) {
      const name = /^\/v2\/(.+)\/(?:manifests|blobs|tags|referrers)\//.exec(url.pathname)?.[1];
      throw auth.challenge(url.origin, name && /^[a-z0-9._/-]{1,255}$/.test(name) ? `repository:${name}:pull` : undefined);
    }
    await next();
  };
}

/** createApp(deps) → the Hono app. */
export function createApp(deps: EdgeDeps): Hono {
  return createEdge(deps).app;
}

async function dispatch(c: Context, rc: RouteContext): Promise<Response> {
  // Hono runs GET handlers for HEAD (and drops the body); c.req.method still says HEAD.
  const method = c.req.method;
  if (method !== "GET" && method !== "HEAD") throw errors.methodNotAllowed(method, ALLOWED_METHODS);
  const pathname = new URL(c.req.url).pathname;
  const route = matchRoute(pathname);
  switch (route.kind) {
    case "landing":
      return landingHandler(c, rc);
    case "base":
      return baseHandler();
    case "manifest":
      return manifestHandler(c, rc, route.name, route.reference);
    case "blob":
      return blobHandler(c, rc, route.name, route.digest);
    case "tags":
      return tagsHandler(c, rc, route.name);
    case "referrers":
      return referrersHandler(c, rc, route.name, route.digest);
    case "nix-cache-info":
      return cacheInfoHandler();
    case "nix-cache-public-key":
      return publicKeyHandler(rc);
    case "narinfo":
      return narInfoHandler(rc, route.hash);
    case "nar":
      return narHandler(c, rc, route.file);
    case "unknown":
      throw errors.unknownRoute(pathname);
  }
}
