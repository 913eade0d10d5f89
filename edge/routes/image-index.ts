/**
 * A pull by tag of a name without an architecture, when the client takes an index: every
 * configured platform resolved in parallel (each through the tag cache and a build, exactly
 * as its `arm64/` or `amd64/` name is, so the entries are those images' digests), listed in
 * an OCI image index or a Docker manifest list.
 */
import { imageIndexBytes, type IndexEntry, type IndexType } from "../../common/image-index.ts";
import type { Arch, ImageRequest } from "../../common/image-request.ts";
import { platformName } from "../../common/platforms.ts";
import { manifestRefs, type ManifestRef } from "../cache.ts";
import { RegistryError } from "../errors.ts";
import type { Resolved } from "../resolve.ts";
import type { RouteContext } from "./context.ts";
import { digestOf } from "./referrers.ts";
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from "./media.ts";

export interface PlatformIndex {
  ref: ManifestRef;
  bytes: Uint8Array;
  /** hit, miss or stale: miss when any platform was built, stale when any answer is stale. */
  state: "hit" | "miss" | "stale";
  /** Every entry is immutable (a commit's image) and fresh. */
  immutable: boolean;
}

export async function platformIndex(rc: RouteContext, req: ImageRequest, type: IndexType, client: string | undefined): Promise<PlatformIndex> {
  const arches = rc.config.platforms;
  const settled = await Promise.allSettled(arches.map((arch) => rc.resolver.resolve({ ...req, arch }, { client })));
  // The first failing platform in configured order: the same pull names the same error.
  const failed = settled.findIndex((s) => s.status === "rejected");
  if (failed >= 0) throw named(arches[failed]!, (settled[failed] as PromiseRejectedResult).reason);
  const resolved = settled.map((s) => (s as PromiseFulfilledResult<Resolved>).value);
  const entryType = type === OCI_INDEX ? OCI_MANIFEST : DOCKER_MANIFEST;
  const entries = resolved.map((r, i) => entry(arches[i]!, manifestRefs(r.entry), entryType));
  const bytes = imageIndexBytes(type, entries) as Uint8Array<ArrayBuffer>;
  const digest = await digestOf(bytes);
  await stored(rc, digest, type, entries);
  rc.manifests.put(digest, bytes);
  const state = resolved.some((r) => r.built) ? "miss" : resolved.some((r) => r.stale) ? "stale" : "hit";
  const immutable = resolved.every((r) => r.entry.expires === null && !r.stale);
  return { ref: { digest, mediaType: type, size: bytes.byteLength }, bytes, state, immutable };
}

function entry(arch: Arch, refs: ManifestRef[], type: string): IndexEntry {
  const ref = refs.find((r) => r.mediaType === type) ?? refs[0]!;
  return { arch, mediaType: ref.mediaType, digest: ref.digest, size: ref.size };
}

/**
 * Clients fetch the index again by its digest, maybe from another edge (Worker isolate):
 * a builder stores it the first time, once per edge. Without one that can, this edge serves
 * it from memory alone.
 */
async function stored(rc: RouteContext, digest: string, type: IndexType, entries: IndexEntry[]): Promise<void> {
  if (rc.manifests.get(digest) || !rc.builder.writeIndex || (await rc.blobs.stat(digest))) return;
  await rc.builder.writeIndex(type, entries).catch(() => undefined);
}

/** The platform's error, its message and detail naming the platform (`linux/arm64: …`). */
function named(arch: Arch, err: unknown): unknown {
  if (!(err instanceof RegistryError)) return err;
  const platform = platformName(arch);
  const detail = typeof err.detail === "object" && err.detail !== null ? { platform, ...err.detail } : { platform, detail: err.detail };
  const e = new RegistryError(err.status, err.code, `${platform}: ${err.message}`, detail, err.headers);
  if (err.reason) e.reason = `${platform}: ${err.reason}`;
  return e;
}
