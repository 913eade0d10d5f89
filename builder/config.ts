import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { storageConfigFromEnv, type StorageConfig } from "../common/storage/config.ts";
import { parsePackageList, type BuildPolicy } from "./policy.ts";
import { DEFAULT_ALLOWED_PATHS, listSetting } from "./nix/env.ts";

/** The builder's settings, from the environment (README's configuration table). */
export interface BuilderConfig {
  dataDir: string;
  /** The object store: NIXPORT_DATA's folder or an S3 bucket, under NIXPORT_S3_PREFIX. */
  storage: StorageConfig;
  grpcPort: number;
  token: string | undefined;
  /** Builds that may run at once. */
  maxBuilds: number;
  maxQueued: number;
  buildTimeoutMs: number;
  layerBudget: number | undefined;
  /** Popularity data: a file path or URL. */
  popularity: string | undefined;
  /** Layer writes running at once across all builds. */
  writeParallelism: number;
  /** How long a failed build (or unknown packages) answers repeats without running again. */
  failureTtlMs: number;
  /** Package lists and closure cap (policy.ts). */
  policy: BuildPolicy;
  /** Realise only what a binary cache has; never compile here. */
  substituteOnly: boolean;
  /** Variables passed on to Nix besides what it needs (never AWS_* or NIXPORT_*). */
  nixPassEnv: string[];
  /** Host paths evaluation may read besides the package set (restrict-eval). */
  nixAllowedPaths: string[];
  /** The provenance's builder id (a URI naming this builder). */
  builderId: string | undefined;
  /** PEM files for TLS on the builder's port (npm run builder), both or neither. */
  grpcTls: { certFile: string; keyFile: string } | undefined;
  /** Connections the builder's port holds at once. */
  grpcMaxConnections: number;
  /** Write every built image's store paths as a signed Nix binary cache (NIXPORT_BINARY_CACHE). */
  binaryCache: boolean;
  /** The cache's secret key file (NIXPORT_CACHE_SIGNING_KEY); generated there once when it is the default. */
  cacheSigningKey: { file: string; generated: boolean };
  /** Binary caches Nix may substitute from, and the public keys it trusts for them. */
  substituters: string[];
  trustedKeys: string[];
}

/** A whole-number setting (>= 0) from the environment. */
export function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "" || raw === "0") return false;
  if (raw === "1") return true;
  throw new Error(`${name} must be 1 or 0, got ${JSON.stringify(raw)}`);
}

/** A list split on spaces and commas only: URLs and `name:key` values hold colons. */
function wordList(raw: string | undefined): string[] {
  return (raw ?? "").split(/[\s,]+/).filter(Boolean);
}

function tlsFiles(env: NodeJS.ProcessEnv): BuilderConfig["grpcTls"] {
  const certFile = env.NIXPORT_GRPC_TLS_CERT || undefined;
  const keyFile = env.NIXPORT_GRPC_TLS_KEY || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error("NIXPORT_GRPC_TLS_CERT and NIXPORT_GRPC_TLS_KEY go together: set both (PEM files) or neither");
  return { certFile, keyFile };
}

export function builderConfigFromEnv(env: NodeJS.ProcessEnv = process.env): BuilderConfig {
  const budget = env.NIXPORT_LAYER_BUDGET ? int(env, "NIXPORT_LAYER_BUDGET", 100) : undefined;
  const dataDir = resolve(env.NIXPORT_DATA || "./data");
  return {
    dataDir,
    storage: storageConfigFromEnv({ ...env, NIXPORT_DATA: dataDir }),
    grpcPort: int(env, "NIXPORT_GRPC_PORT", 50051),
    token: env.NIXPORT_BUILDER_TOKEN || undefined,
    maxBuilds: Math.max(1, int(env, "NIXPORT_MAX_BUILDS", 2)),
    maxQueued: int(env, "NIXPORT_MAX_QUEUED", 100),
    buildTimeoutMs: int(env, "NIXPORT_BUILD_TIMEOUT_SECONDS", 1800) * 1000,
    layerBudget: budget,
    popularity: env.NIXPORT_POPULARITY || undefined,
    writeParallelism: Math.max(1, int(env, "NIXPORT_WRITE_PARALLELISM", availableParallelism())),
    failureTtlMs: int(env, "NIXPORT_FAILURE_TTL_SECONDS", 60) * 1000,
    policy: {
      allow: parsePackageList(env.NIXPORT_PACKAGES_ALLOW),
      deny: parsePackageList(env.NIXPORT_PACKAGES_DENY),
      maxClosureBytes: int(env, "NIXPORT_MAX_CLOSURE_BYTES", 0) || undefined,
    },
    substituteOnly: flag(env, "NIXPORT_SUBSTITUTE_ONLY"),
    grpcTls: tlsFiles(env),
    grpcMaxConnections: Math.max(1, int(env, "NIXPORT_GRPC_MAX_CONNECTIONS", 512)),
    nixPassEnv: listSetting(env.NIXPORT_NIX_ENV, []),
    nixAllowedPaths: listSetting(env.NIXPORT_NIX_ALLOWED_PATHS, DEFAULT_ALLOWED_PATHS),
    builderId: env.NIXPORT_BUILDER_ID || undefined,
    binaryCache: env.NIXPORT_BINARY_CACHE === undefined || env.NIXPORT_BINARY_CACHE === "" || flag(env, "NIXPORT_BINARY_CACHE"),
    cacheSigningKey: env.NIXPORT_CACHE_SIGNING_KEY
      ? { file: resolve(env.NIXPORT_CACHE_SIGNING_KEY), generated: false }
      : { file: join(dataDir, "keys", "nix-cache.secret"), generated: true },
    substituters: wordList(env.NIXPORT_SUBSTITUTERS),
    trustedKeys: wordList(env.NIXPORT_TRUSTED_KEYS),
  };
}
