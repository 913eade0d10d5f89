/**
 * Builds an edge for tests: in-memory storage, the in-memory builder writing into it, a
 * memory tag cache, a clock the test moves, and a log that records unexpected errors.
 */
import { createEdge, type EdgeDeps } from "../../edge/app.ts";
import { MemoryBuilder, type MemoryBuilderOptions } from "./memory-builder.ts";
import type { BuilderClient } from "../../edge/builder/client.ts";
import { MemoryTagCache, type TagCache } from "../../edge/cache.ts";
import { MemoryBlobStore } from "./memory-blobs.ts";
import type { BlobReader } from "../../edge/storage/types.ts";

export const KNOWN_PACKAGES = [
  "git", "htop", "hello", "curl", "bashinteractive", "coreutils", "moreutils", "nano",
  "python3packages.requests", "broken", "manifests", "blobs",
];

export const BROKEN = { derivation: "/nix/store/aaaa-broken-1.0.drv", logTail: "make: *** [all] Error 2" };

export interface HarnessOptions {
  builder?: Partial<MemoryBuilderOptions>;
  /** Wrap the memory store (e.g. to add a redirect capability). */
  blobs?: (store: MemoryBlobStore) => BlobReader;
  /** Use this builder instead of the memory builder (which still provides the store). */
  builderClient?: (memory: MemoryBuilder) => BuilderClient;
  tagCache?: TagCache;
  config?: EdgeDeps["config"];
}

export function makeEdge(o: HarnessOptions = {}) {
  const store = new MemoryBlobStore();
  const builder = new MemoryBuilder({ packages: KNOWN_PACKAGES, store, failing: { broken: BROKEN }, ...o.builder });
  let clock = Date.UTC(2026, 0, 1);
  const now = () => clock;
  const unexpected: unknown[] = [];
  const config = { retryAfterSeconds: 5, staleSeconds: 3600, source: "test packages", ...o.config };
  const edge = createEdge({
    blobs: o.blobs ? o.blobs(store) : store,
    builder: o.builderClient ? o.builderClient(builder) : builder,
    tagCache: o.tagCache ?? new MemoryTagCache(config.staleSeconds, now),
    config,
    now,
    log: (_msg, err) => unexpected.push(err),
    // Tests name the client in a header of their own.
    clientAddress: (c) => c.req.header("x-test-client"),
  });
  return {
    ...edge,
    store,
    builder,
    unexpected,
    now,
    advance(ms: number) {
      clock += ms;
    },
    fetch(path: string, init?: RequestInit): Promise<Response> {
      return Promise.resolve(edge.app.fetch(new Request(`http://registry.test${path}`, init)));
    },
  };
}

export type Edge = ReturnType<typeof makeEdge>;

export const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";
export const OCI = "application/vnd.oci.image.manifest.v1+json";
export const ZERO_DIGEST = `sha256:${"0".repeat(64)}`;

export interface OciErrorBody {
  errors: { code: string; message: string; detail: unknown }[];
}

/** The OCI error body's single error (asserting the body's shape on the way). */
export async function ociError(res: Response): Promise<OciErrorBody["errors"][number]> {
  if (res.headers.get("content-type") !== "application/json") throw new Error(`error content-type ${res.headers.get("content-type")}`);
  const body = (await res.json()) as OciErrorBody;
  if (!Array.isArray(body.errors) || body.errors.length !== 1) throw new Error(`bad error body ${JSON.stringify(body)}`);
  const [e] = body.errors;
  if (typeof e!.code !== "string" || typeof e!.message !== "string" || !("detail" in e!)) throw new Error(`bad error ${JSON.stringify(e)}`);
  return e!;
}
