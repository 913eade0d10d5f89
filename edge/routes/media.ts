/** Manifest media types and content negotiation, pure. */
import type { ManifestRef } from "../cache.ts";
import { DOCKER_MANIFEST_LIST, OCI_INDEX } from "../../common/image-index.ts";

export { DOCKER_MANIFEST_LIST, OCI_INDEX };

export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

const MANIFEST_TYPES = new Set([DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX]);

/** Media types an Accept header lists with a non-zero quality, lowercased. */
export function acceptedTypes(accept: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const part of (accept ?? "").slice(0, 8192).split(",")) {
    const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    if (type && !(q && Number(q.slice(2)) === 0)) out.add(type);
  }
  return out;
}

/** The format an Accept header asks for, by header: clients send the same few, on every pull. */
const wanted = new Map<string, string>();
const MAX_WANTED = 256;

function wantedFormat(accept: string | undefined): string {
  const key = accept ?? "";
  let want = wanted.get(key);
  if (want === undefined) {
    const types = acceptedTypes(accept);
    want = types.has(OCI_MANIFEST) && !types.has(DOCKER_MANIFEST) ? OCI_MANIFEST : DOCKER_MANIFEST;
    if (wanted.size >= MAX_WANTED) wanted.clear(); // hostile variety only costs re-parsing
    if (key.length <= 1024) wanted.set(key, want);
  }
  return want;
}

/** OCI when the client accepts the OCI manifest but not Docker schema 2; Docker otherwise. */
export function pickManifest<T extends ManifestRef>(refs: readonly T[], accept: string | undefined): T | undefined {
  const want = wantedFormat(accept);
  return refs.find((r) => r.mediaType === want) ?? refs[0];
}

/**
 * The index format an Accept header takes: the OCI image index when it lists it, a Docker
 * manifest list when it lists only that; null when it takes no index (one platform's manifest).
 */
export function indexMediaType(accept: string | undefined): typeof OCI_INDEX | typeof DOCKER_MANIFEST_LIST | null {
  const types = acceptedTypes(accept);
  if (types.has(OCI_INDEX)) return OCI_INDEX;
  return types.has(DOCKER_MANIFEST_LIST) ? DOCKER_MANIFEST_LIST : null;
}

/** The media type of a stored manifest, or null when the bytes are not a manifest (a layer, a config). */
export function manifestMediaType(bytes: Uint8Array): string | null {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return null;
  const m = doc as { mediaType?: unknown; schemaVersion?: unknown; config?: unknown; layers?: unknown; manifests?: unknown };
  if (typeof m.mediaType === "string") return MANIFEST_TYPES.has(m.mediaType) ? m.mediaType : null;
  // The OCI formats make mediaType optional; tell them apart by shape.
  if (m.schemaVersion !== 2) return null;
  if (typeof m.config === "object" && Array.isArray(m.layers)) return OCI_MANIFEST;
  if (Array.isArray(m.manifests)) return OCI_INDEX;
  return null;
}
