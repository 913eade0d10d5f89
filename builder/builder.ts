/**
 * The builder assembled from its parts: package source, Nix, object store, single-flight
 * builds and the build pipeline, behind the BuilderBackend the gRPC service serves.
 */
import { createHash } from "node:crypto";
import { access, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { BuilderConfig } from "./config.ts";
import { BuildError } from "../common/build-error.ts";
import { DerivedPopularity } from "./layers/derived-popularity.ts";
import { loadPopularity, type Popularity } from "./layers/popularity.ts";
import { narCache, publishPublicKey, type NarCache } from "./cache/nar-writer.ts";
import { loadSigningKey } from "./cache/signing-key.ts";
import { Nix } from "./nix/nix.ts";
import { run } from "./nix/run.ts";
import { nixSystems } from "./nix/systems.ts";
import { writeIndex } from "./image-io/index-writer.ts";
import { toolEnv } from "./nix/env.ts";
import { pipelineBuildFn, type PipelineDeps } from "./pipeline.ts";
import { BuildFlights } from "./service/flights.ts";
import { removeStale } from "./sweep.ts";
import type { BuilderBackend, BuildEvent, BuildPhase } from "./service/types.ts";
import { sourceFromEnv, type PackageSource } from "./sources.ts";
import type { CredentialsProvider } from "../common/storage/s3.ts";
import { createStore } from "./store/index.ts";
import type { BlobStore } from "./store/types.ts";

/** Scratch and temp files untouched this long are a crashed writer's (see sweep.ts). */
const LEFTOVER_AGE_MS = 60 * 60_000;
const SWEEP_EVERY_MS = 15 * 60_000;

export interface Builder {
  backend: BuilderBackend;
  flights: BuildFlights;
  nix: Nix;
  source: PackageSource;
  store: BlobStore;
  /** Refuses new builds and lets running ones finish (cancelled after graceMs). */
  close(graceMs?: number): Promise<void>;
}

export interface BuilderParts {
  source?: PackageSource;
  store?: BlobStore;
  nix?: Nix;
  /** S3 credentials shared with the edge (see common/storage/node-credentials.ts). */
  credentials?: CredentialsProvider;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Test hooks of the pipeline (see PipelineDeps). */
  pipeline?: Pick<PipelineDeps, "layerFlights" | "beforeUpload">;
}

/** The signed binary cache every build writes into the store; the public key is stored for the edge. */
async function binaryCache(config: BuilderConfig, store: BlobStore, workDir: string): Promise<NarCache> {
  const { file, generated } = config.cacheSigningKey;
  const key = await loadSigningKey(file, generated ? { name: "nixport-1" } : undefined).catch((e: Error) => {
    throw new Error(`NIXPORT_CACHE_SIGNING_KEY: ${e.message}`);
  });
  await publishPublicKey(store, key);
  return narCache({ store, key, workDir });
}

export async function createBuilder(config: BuilderConfig, env: NodeJS.ProcessEnv = process.env, parts: BuilderParts = {}): Promise<Builder> {
  const log = parts.log ?? (() => {});
  const source = parts.source ?? sourceFromEnv(env, config.dataDir, log);
  const store = parts.store ?? createStore(config.storage, parts.credentials);
  const nix = parts.nix ?? new Nix({ gcRootDir: join(config.dataDir, "gcroots"), buildTimeoutMs: config.buildTimeoutMs, substituteOnly: config.substituteOnly, env, passEnv: config.nixPassEnv, allowedPaths: config.nixAllowedPaths, substituters: config.substituters, trustedKeys: config.trustedKeys });
  const workDir = join(config.dataDir, "work");
  await mkdir(workDir, { recursive: true });
  const sweep = async () => {
    try {
      const removed = (await removeStale(workDir, LEFTOVER_AGE_MS)) + ((await store.sweepTemp?.(LEFTOVER_AGE_MS)) ?? 0);
      if (removed > 0) log("swept leftovers of crashed writes", { removed });
      const roots = await nix.releaseOrphanedRoots();
      if (roots > 0) log("released GC roots of builders that died", { roots });
    } catch (e) {
      log("sweeping leftovers failed", { error: (e as Error).message });
    }
  };
  await sweep();
  const sweeper = setInterval(() => void sweep(), SWEEP_EVERY_MS);
  sweeper.unref();
  let popularity: Popularity | undefined;
  let popularityDigest: string | undefined;
  if (config.popularity) {
    popularity = await loadPopularity(config.popularity);
    popularityDigest = createHash("sha256").update(JSON.stringify([...popularity].sort())).digest("hex");
  }
  const derivedPopularity = popularity ? undefined : new DerivedPopularity((s, system, signal) => nix.popularity(s, system, signal), log);
  const cache = config.binaryCache ? await binaryCache(config, store, workDir) : undefined;
  const build = pipelineBuildFn({ nix, source, store, workDir, popularity, popularityDigest, derivedPopularity, layerBudget: config.layerBudget, writeParallelism: config.writeParallelism, policy: config.policy, builderId: config.builderId, ...(cache ? { cache } : {}), ...parts.pipeline });
  const flights = new BuildFlights(
    async (spec, emit, signal) => {
      const started = Date.now();
      const image = { packages: spec.packages, arch: spec.arch, tag: spec.tag };
      log("build started", image);
      const timer = phaseTimer(started);
      const timed = (e: BuildEvent) => (timer.see(e), emit(e));
      try {
        const r = await build(spec, timed, signal);
        log("build done", { ...image, digest: r.manifests[0]?.digest, ms: Date.now() - started, phases: timer.phases(), uploadMs: timer.uploadMs() });
        return r;
      } catch (e) {
        log("build failed", { ...image, kind: (e as BuildError).kind ?? "internal", error: (e as Error).message, ms: Date.now() - started, phases: timer.phases() });
        throw e;
      }
    },
    { maxConcurrent: config.maxBuilds, maxQueued: config.maxQueued, failureTtlMs: config.failureTtlMs, buildTimeoutMs: config.buildTimeoutMs },
  );
  let closing = false;
  // Nix's configuration is read once: it does not change while the builder runs.
  let systems: Promise<string[]> | undefined;
  const backend: BuilderBackend = {
    serving: () => !closing,
    writeIndex: (type, entries) => writeIndex(store, type, entries),
    systems: () => (systems ??= nixSystems(toolEnv(env, config.nixPassEnv)).catch((e) => ((systems = undefined), Promise.reject(e)))),
    build: (spec, onEvent, signal, opts) => flights.run(spec, onEvent, signal, opts),
    async checkPackages(names, tag, signal) {
      const resolved = await source.resolve(tag, signal);
      try {
        const found = await nix.resolveNames(resolved, names, "x86_64-linux", signal);
        return { resolved: found.map((n) => n.attrPath.join(".")), unknown: [] };
      } catch (e) {
        if (e instanceof BuildError && e.kind === "not_found" && e.details.unknownPackages) {
          const unknown = new Set(e.details.unknownPackages);
          return { resolved: [], unknown: names.filter((n) => unknown.has(n)) };
        }
        throw e;
      } finally {
        resolved.release?.();
      }
    },
  };
  return {
    backend,
    flights,
    nix,
    source,
    store,
    async close(graceMs = 30_000) {
      closing = true;
      clearInterval(sweeper);
      await flights.close(graceMs);
    },
  };
}

/**
 * Milliseconds spent in each build phase, for the build's log line (where the time goes),
 * and the summed time of layer uploads (which overlap the writing of later layers).
 */
function phaseTimer(started: number) {
  const ms: Partial<Record<BuildPhase, number>> = {};
  let current: BuildPhase | undefined;
  let since = started;
  let uploadMs = 0;
  const close = () => {
    if (current) ms[current] = (ms[current] ?? 0) + Date.now() - since;
  };
  return {
    see(e: BuildEvent) {
      if (e.type === "layer") uploadMs += e.uploadMs ?? 0;
      if (e.type !== "phase") return;
      close();
      current = e.phase;
      since = Date.now();
    },
    uploadMs: () => uploadMs,
    phases() {
      close();
      current = undefined;
      return ms;
    },
  };
}

/**
 * Checks at startup that Nix is installed and the package source is usable, so a broken
 * host is a clear message at start, not a failed pull later. Returns Nix's version.
 */
export async function checkHost(source: PackageSource): Promise<string> {
  const r = await run("nix-build", ["--version"]).catch(() => null);
  if (!r || r.code !== 0) throw new Error("Nix is not installed or not on PATH (nix-build --version failed): install Nix on the builder host");
  if (source.kind === "path") {
    const { pkgsPath, release } = await source.resolve("latest");
    release?.();
    await access(join(pkgsPath, "default.nix")).catch(() => {
      throw new Error(`NIXPORT_PKGS_PATH: no default.nix in ${pkgsPath}`);
    });
  }
  return r.stdout.trim();
}
