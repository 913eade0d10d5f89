/**
 * GET|HEAD /v2/<name>/manifests/<tag|digest>.
 * By digest: straight from storage, immutable. By tag: tag cache → build (HEAD builds too,
 * since containerd asks HEAD first), in the format the client's Accept asks for.
 */
import type { Context } from "hono";
import type { ManifestRef } from "../cache.ts";
import { manifestRefs } from "../cache.ts";
import { API_VERSION, API_VERSION_HEADER } from "../api-version.ts";
import { errors } from "../errors.ts";
import { namesArch, parseReference } from "../../common/names.ts";
import { readSmallBlob } from "../storage/types.ts";
import type { Resolved } from "../resolve.ts";
import type { ImageRequest } from "../../common/image-request.ts";
import { type RouteContext, requireName } from "./context.ts";
import { indexMediaType, manifestMediaType, pickManifest } from "./media.ts";
import { platformIndex } from "./image-index.ts";
import { decodeSegment } from "./table.ts";
import { REFERRERS_TAG_RE, referrersTagResponse } from "./referrers.ts";

/** Manifests are small; a larger blob is something else. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const IMMUTABLE = "public, max-age=31536000, immutable";
/** Context variable: hit, miss or stale, as in the X-Nixport-Cache header. */
export const CACHE_STATE = "nixportCache";

export async function manifestHandler(c: Context, rc: RouteContext, name: string, rawReference: string): Promise<Response> {
  const image = requireName(name);
  const reference = decodeSegment(rawReference);
  const ref = parseReference(reference);
  if (!ref.ok) {
    if (reference.includes(":")) throw errors.digestInvalid(ref.reason);
    throw errors.manifestUnknown({ reference: reference.slice(0, 140), reason: ref.reason });
  }
  switch (ref.value.kind) {
    case "foreign-digest":
      throw errors.manifestUnknown({ digest: ref.value.digest, reason: "only sha256 digests are stored" });
    case "digest":
      return byDigest(c, rc, ref.value.digest);
    case "tag": {
      // The referrers tag schema: no source revision is spelled so.
      const referrers = REFERRERS_TAG_RE.exec(ref.value.tag);
      if (referrers) return referrersTagResponse(c, rc, referrers[1]!);
      const req = { ...image, tag: ref.value.tag };
      return namesArch(name) ? byTag(c, rc, req) : byPlatforms(c, rc, req);
    }
  }
}

/** A name without an architecture: an index of every platform, or the default one's manifest. */
async function byPlatforms(c: Context, rc: RouteContext, req: ImageRequest): Promise<Response> {
  const [first, ...others] = rc.config.platforms;
  const type = indexMediaType(c.req.header("accept"));
  if (!others.length || !type) return byTag(c, rc, { ...req, arch: first ?? req.arch });
  const index = await platformIndex(rc, req, type, rc.clientAddress?.(c));
  c.set(CACHE_STATE, index.state);
  return manifestResponse(c, index.ref, index.bytes, {
    "Cache-Control": index.immutable ? "public, max-age=86400" : "no-cache",
    Vary: "Accept",
    "X-Nixport-Cache": index.state,
  });
}

async function byDigest(c: Context, rc: RouteContext, digest: string): Promise<Response> {
  const bytes = await storedManifest(rc, digest);
  const mediaType = bytes && manifestMediaType(bytes);
  if (!bytes || !mediaType) throw errors.manifestUnknown({ digest });
  return manifestResponse(c, { digest, mediaType, size: bytes.byteLength }, bytes, { "Cache-Control": IMMUTABLE });
}

async function byTag(c: Context, rc: RouteContext, req: ImageRequest): Promise<Response> {
  const client = rc.clientAddress?.(c);
  let resolved = await rc.resolver.resolve(req, { client });
  let chosen = choose(c, resolved);
  let bytes = await manifestBytes(c, rc, resolved, chosen);
  if (bytes === null) {
    // The cache pointed at a manifest storage does not hold: forget it and build again.
    resolved = await rc.resolver.resolve(req, { refresh: true, client });
    chosen = choose(c, resolved);
    bytes = await manifestBytes(c, rc, resolved, chosen);
    if (bytes === null) throw errors.manifestUnknown({ digest: chosen.digest, reason: "built manifest missing from storage" });
  }
  const state = resolved.stale ? "stale" : resolved.built ? "miss" : "hit";
  c.set(CACHE_STATE, state); // for the access log, which must not read the answer's headers
  return manifestResponse(c, chosen, bytes, {
    // Tags move (or may be rebuilt); the digest behind a commit tag never does.
    "Cache-Control": resolved.entry.expires === null && !resolved.stale ? "public, max-age=86400" : "no-cache",
    Vary: "Accept",
    "X-Nixport-Cache": state,
  });
}

function choose(c: Context, resolved: Resolved): ManifestRef {
  const chosen = pickManifest(manifestRefs(resolved.entry), c.req.header("accept"));
  if (!chosen) throw errors.internal("cache entry without a manifest");
  return chosen;
}

/** Bytes of the chosen manifest: from the build when there was one; none needed for HEAD. */
async function manifestBytes(c: Context, rc: RouteContext, resolved: Resolved, chosen: ManifestRef): Promise<Uint8Array | "head" | null> {
  const built = resolved.built?.manifests.find((m) => m.digest === chosen.digest);
  if (built) return built.bytes;
  if (c.req.method === "HEAD") return "head";
  return storedManifest(rc, chosen.digest);
}

/** Manifest bytes from memory, or read from storage (and remembered when they are a manifest). */
async function storedManifest(rc: RouteContext, digest: string): Promise<Uint8Array | null> {
  const remembered = rc.manifests.get(digest);
  if (remembered) return remembered;
  const bytes = await readSmallBlob(rc.blobs, digest, MAX_MANIFEST_BYTES);
  if (bytes && manifestMediaType(bytes)) rc.manifests.put(digest, bytes);
  return bytes;
}

function manifestResponse(c: Context, m: ManifestRef, bytes: Uint8Array | "head", extra: Record<string, string>): Response {
  const headers = {
    [API_VERSION_HEADER]: API_VERSION,
    "Content-Type": m.mediaType,
    "Docker-Content-Digest": m.digest,
    "Content-Length": String(bytes === "head" ? m.size : bytes.byteLength),
    ETag: `"${m.digest}"`,
    ...extra,
  };
  // No copy: a Response copies a byte body itself (Fetch "extract a body") or, on Node, writes
  // it out as it is, and remembered bytes are never written to. A copy cost a µs per pull.
  const body = bytes === "head" || c.req.method === "HEAD" ? null : (bytes as Uint8Array<ArrayBuffer>);
  return new Response(body, { status: 200, headers });
}
