/**
 * GET|HEAD /v2/<name>/referrers/<digest> (OCI distribution 1.1): the artifacts (SBOM,
 * provenance) whose `subject` is that manifest, as an OCI image index, from the referrers
 * record the builder wrote with them. `?artifactType=` filters (and says so in
 * OCI-Filters-Applied). A manifest with none, or one never stored, has an empty index; a
 * malformed digest is DIGEST_INVALID. The same index answers the referrers tag schema
 * (manifests/sha256-<hex>) for clients older than the API.
 */
import type { Context } from "hono";
import { canonicalJsonBytes } from "../../common/canonical-json.ts";
import { referrersRecordKey, type ReferrerDescriptor } from "../../common/storage/layout.ts";
import { parseDigest } from "../../common/names.ts";
import { API_VERSION, API_VERSION_HEADER } from "../api-version.ts";
import { errors } from "../errors.ts";
import { type RouteContext, requireName } from "./context.ts";
import { OCI_INDEX } from "./media.ts";
import { decodeSegment } from "./table.ts";

/** The referrers tag schema's tag: the subject's digest with `-` for `:`. */
export const REFERRERS_TAG_RE = /^sha256-([a-f0-9]{64})$/;
/** A referrers record is a few descriptors; anything larger is not one. */
const MAX_RECORD_BYTES = 1024 * 1024;

export async function referrersHandler(c: Context, rc: RouteContext, name: string, rawDigest: string): Promise<Response> {
  requireName(name);
  const ref = parseDigest(decodeSegment(rawDigest));
  if (!ref.ok) throw errors.digestInvalid(ref.reason);
  const all = ref.value.kind === "digest" ? await storedReferrers(rc, ref.value.digest) : [];
  const wanted = c.req.queries("artifactType")?.filter(Boolean) ?? [];
  const manifests = wanted.length ? all.filter((d) => wanted.includes(d.artifactType)) : all;
  return indexResponse(c, indexBytes(manifests), wanted.length ? { "OCI-Filters-Applied": "artifactType" } : {});
}

/** manifests/sha256-<hex>: the same index as a manifest with its own digest; none is MANIFEST_UNKNOWN. */
export async function referrersTagResponse(c: Context, rc: RouteContext, hex: string): Promise<Response> {
  const manifests = await storedReferrers(rc, `sha256:${hex}`);
  if (!manifests.length) throw errors.manifestUnknown({ tag: `sha256-${hex}`, reason: "no referrers" });
  const bytes = indexBytes(manifests);
  return indexResponse(c, bytes, { "Docker-Content-Digest": await digestOf(bytes) });
}

/** A referrers index as an answer (no body for HEAD); it changes as artifacts are added. */
function indexResponse(c: Context, bytes: Uint8Array<ArrayBuffer>, headers: Record<string, string>): Response {
  return new Response(c.req.method === "HEAD" ? null : bytes, {
    status: 200,
    headers: {
      [API_VERSION_HEADER]: API_VERSION,
      "Content-Type": OCI_INDEX,
      "Content-Length": String(bytes.byteLength),
      "Cache-Control": "no-cache",
      ...headers,
    },
  });
}

/** `sha256:<hex>` with WebCrypto, which Workers and Node both have. */
export async function digestOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function indexBytes(manifests: readonly ReferrerDescriptor[]): Uint8Array<ArrayBuffer> {
  return canonicalJsonBytes({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }) as Uint8Array<ArrayBuffer>;
}

/** The descriptors of a subject's referrers record; none when the store has no record (or no records at all). */
async function storedReferrers(rc: RouteContext, subject: string): Promise<ReferrerDescriptor[]> {
  const bytes = await rc.blobs.readRecord?.(referrersRecordKey(subject));
  if (!bytes) return [];
  if (bytes.byteLength > MAX_RECORD_BYTES) throw errors.internal("referrers record too large");
  let record: unknown;
  try {
    record = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw errors.internal("referrers record is not JSON");
  }
  const manifests = (record as { manifests?: unknown })?.manifests;
  if (!Array.isArray(manifests) || !manifests.every(isDescriptor)) throw errors.internal("malformed referrers record");
  return manifests;
}

function isDescriptor(d: unknown): d is ReferrerDescriptor {
  const x = d as Partial<ReferrerDescriptor> | null;
  return !!x && typeof x.mediaType === "string" && typeof x.digest === "string" && typeof x.size === "number" && typeof x.artifactType === "string";
}
