/**
 * Tag → manifest resolution: the tag cache first, then one build per canonical request at a
 * time (concurrent identical pulls share it), and builder failures turned into registry errors.
 * When the builder is unreachable, an expired cache entry is still served: images already
 * cached keep working while builders are down.
 */
import { type ImageRequest, requestKey } from "../common/image-request.ts";
import { BuildError, type BuildErrorKind } from "../common/build-error.ts";
import type { BuilderClient, BuildResult } from "./builder/client.ts";
import { isFresh, type TagCache, type TagEntry } from "./cache.ts";
import { errors, RegistryError } from "./errors.ts";
import type { RecentBuilds } from "./recent.ts";
import { ClientBuilds } from "./client-builds.ts";

export interface Resolved {
  entry: TagEntry;
  /** The build's result, when this resolution built (its manifest bytes need no storage read). */
  built?: BuildResult;
  /** True when an expired entry is served because the builder could not be reached. */
  stale?: boolean;
}

export interface ResolverOptions {
  builder: BuilderClient;
  tagCache: TagCache;
  recent: RecentBuilds;
  now: () => number;
  retryAfterSeconds: number;
  /** How long one pull waits for a build (EdgeConfig.pullWaitSeconds). */
  pullWaitSeconds: number;
  /** Distinct builds one client address may have in flight (EdgeConfig.maxBuildsPerClient; 0: no cap). */
  maxBuildsPerClient?: number;
  /** Called with failures of the cache itself, which never fail a pull. */
  onCacheError?: (err: unknown) => void;
}

/** Builder troubles that say nothing about the image, so a stale answer is better than none. */
const UNREACHABLE_KINDS = new Set<BuildErrorKind>(["unavailable", "timeout", "cancelled", "unauthenticated"]);

function builderUnreachable(err: unknown): boolean {
  if (err instanceof BuildError) return UNREACHABLE_KINDS.has(err.kind);
  return !(err instanceof RegistryError);
}

export function toRegistryError(err: unknown, retryAfterSeconds: number): RegistryError {
  if (err instanceof RegistryError) return err;
  if (!(err instanceof BuildError)) return errors.unavailable("the builder could not be reached", retryAfterSeconds);
  switch (err.kind) {
    case "invalid_argument":
      return errors.nameInvalid(err.message);
    case "not_found": {
      // Clients print the message, not the detail: name the packages in both.
      const unknown = err.details.unknownPackages ?? [];
      const message = unknown.length ? `unknown packages: ${unknown.join(", ")}` : err.message;
      return errors.manifestUnknown({ unknownPackages: unknown, message: err.message }, message.slice(0, 1000));
    }
    case "build_failed": {
      const detail: { derivation?: string; logTail?: string; message: string } = { message: err.message };
      if (err.details.derivation !== undefined) detail.derivation = err.details.derivation;
      if (err.details.logTail !== undefined) detail.logTail = err.details.logTail;
      return errors.buildFailed(detail);
    }
    case "denied":
      return errors.denied(err.message.slice(0, 1000), err.details.derivation !== undefined ? { derivation: err.details.derivation } : null);
    // The edge's call is cancelled only when its own build timeout fires: the build runs on.
    case "timeout":
    case "cancelled":
      return errors.unavailable(`the build is still running: ${err.message}`, err.details.retryAfterSeconds ?? retryAfterSeconds);
    case "unavailable":
      return errors.unavailable(`the builder is unavailable: ${err.message}`, err.details.retryAfterSeconds ?? retryAfterSeconds);
    case "unauthenticated":
      return errors.unavailable("the builder rejected this registry's credentials", retryAfterSeconds);
    case "internal":
      return errors.internal(err.message);
  }
}

/** Answers to pulls whose build outlasted their wait (the build goes on). */
const stillBuildingErrors = new WeakSet<RegistryError>();

function stillBuilding(waitedSeconds: number, retryAfterSeconds: number): RegistryError {
  const e = errors.unavailable(`the image is still being built (waited ${waitedSeconds} s); pull again to get it`, retryAfterSeconds);
  stillBuildingErrors.add(e);
  return e;
}

/** The cache entry for a build: Docker schema 2 first when present, the other format as alternate. */
export function entryOf(result: BuildResult, now: number): TagEntry {
  const refs = result.manifests
    .map(({ digest, mediaType, size }) => ({ digest, mediaType, size }))
    .sort((a, b) => Number(b.mediaType.includes("docker")) - Number(a.mediaType.includes("docker")));
  const [primary, ...alternates] = refs;
  if (!primary) throw errors.internal("the builder returned no manifest");
  const entry: TagEntry = { ...primary, expires: result.ttlSeconds === null ? null : now + result.ttlSeconds * 1000 };
  if (alternates.length) entry.alternates = alternates;
  if (result.revision !== undefined) entry.revision = result.revision;
  return entry;
}

export class TagResolver {
  private readonly inflight = new Map<string, Promise<Resolved>>();
  private readonly clients: ClientBuilds;

  constructor(private readonly o: ResolverOptions) {
    this.clients = new ClientBuilds({ max: o.maxBuildsPerClient ?? 0, retryAfterSeconds: o.retryAfterSeconds, now: o.now });
  }

  /**
   * refresh: skip the cache (its entry pointed at a manifest storage no longer has).
   * client: the puller's address, for the cap on builds in flight per client.
   */
  async resolve(req: ImageRequest, opts: { refresh?: boolean; client?: string } = {}): Promise<Resolved> {
    const key = requestKey(req);
    const cached = opts.refresh ? null : await this.cacheGet(key);
    if (cached && isFresh(cached, this.o.now())) return { entry: cached };
    try {
      return await this.clients.run(opts.client, key, () => this.buildOnce(req, key), (err) => stillBuildingErrors.has(err as RegistryError));
    } catch (err) {
      if (cached && builderUnreachable(err)) return { entry: cached, stale: true };
      throw toRegistryError(err, this.o.retryAfterSeconds);
    }
  }

  /** Number of builds in flight (for tests and the landing page). */
  get building(): number {
    return this.inflight.size;
  }

  private buildOnce(req: ImageRequest, key: string): Promise<Resolved> {
    let p = this.inflight.get(key);
    if (!p) {
      p = this.build(req, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async build(req: ImageRequest, key: string): Promise<Resolved> {
    // Leaving ends only this wait: the builder goes on, and the next pull joins the build.
    const signal = AbortSignal.timeout(this.o.pullWaitSeconds * 1000);
    let result: BuildResult;
    try {
      result = await this.o.builder.build(req, { signal });
    } catch (err) {
      if (signal.aborted) throw stillBuilding(this.o.pullWaitSeconds, this.o.retryAfterSeconds);
      const e = toRegistryError(err, this.o.retryAfterSeconds);
      this.o.recent.record({ image: key, at: this.o.now(), error: `${e.code}: ${e.message}` });
      throw err;
    }
    const entry = entryOf(result, this.o.now());
    await this.cachePut(key, entry);
    const recent: Parameters<RecentBuilds["record"]>[0] = { image: key, at: this.o.now(), digest: entry.digest };
    if (result.revision !== undefined) recent.revision = result.revision;
    this.o.recent.record(recent);
    return { entry, built: result };
  }

  private async cacheGet(key: string): Promise<TagEntry | null> {
    try {
      return await this.o.tagCache.get(key);
    } catch (err) {
      this.o.onCacheError?.(err);
      return null;
    }
  }

  private async cachePut(key: string, entry: TagEntry): Promise<void> {
    try {
      await this.o.tagCache.put(key, entry);
    } catch (err) {
      this.o.onCacheError?.(err);
    }
  }
}
