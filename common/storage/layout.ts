/**
 * The object-storage layout shared by the builder (writer) and the edge (reader).
 *
 *   blobs/sha256/<hex>       layers, configs and manifests; immutable, content-addressed
 *   layers/<layerKey>.json   layer cache: store-path set → LayerRecord
 *   images/<imageKey>.json   manifest cache for immutable sources → ImageRecord
 *   referrers/<hex>.json     artifacts (SBOM, provenance) whose subject is manifest <hex> → ReferrersRecord
 *   nix-cache/<hash>.json    binary cache: a store path's narinfo (its NAR is a blob) → NarInfoRecord
 *   nix-cache/public-key.json the cache's public signing key → CachePublicKeyRecord
 *
 * A record is written only after everything it points to exists. A store may hold the layout
 * under a key prefix (NIXPORT_S3_PREFIX), the same for every reader and writer of it.
 */

/** A key, digest or prefix outside the layout: a caller's bug, never a storage failure. */
export class InvalidKeyError extends Error {
  override name = "InvalidKeyError";
}

const HEX64_RE = /^[a-f0-9]{64}$/;
/** Layer and image keys are lowercase hex or base32 of a hash, nothing else. */
const RECORD_KEY_RE = /^[a-z0-9]{16,128}$/;

/** Storage key of a blob; throws on anything that is not a sha256 digest. */
export function blobKey(digest: string): string {
  const hex = digest.startsWith("sha256:") ? digest.slice(7) : "";
  if (!HEX64_RE.test(hex)) throw new InvalidKeyError(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return `blobs/sha256/${hex}`;
}

export function layerRecordKey(layerKey: string): string {
  if (!RECORD_KEY_RE.test(layerKey)) throw new InvalidKeyError(`invalid layer key: ${JSON.stringify(layerKey)}`);
  return `layers/${layerKey}.json`;
}

export function imageRecordKey(imageKey: string): string {
  if (!RECORD_KEY_RE.test(imageKey)) throw new InvalidKeyError(`invalid image key: ${JSON.stringify(imageKey)}`);
  return `images/${imageKey}.json`;
}

/** A store path's hash part: 32 characters of Nix's base32 alphabet (no e, o, u, t). */
const STORE_HASH_RE = /^[0-9a-df-np-sv-z]{32}$/;

export function isStoreHash(s: string): boolean {
  return STORE_HASH_RE.test(s);
}

/** The narinfo record of the store path whose hash part is `storeHash`. */
export function narInfoRecordKey(storeHash: string): string {
  if (!isStoreHash(storeHash)) throw new InvalidKeyError(`invalid store hash: ${JSON.stringify(storeHash)}`);
  return `nix-cache/${storeHash}.json`;
}

/** The record holding the binary cache's public key. */
export const CACHE_PUBLIC_KEY_KEY = "nix-cache/public-key.json";

const PREFIX_RE = /^([A-Za-z0-9._-]+\/)*$/;

/**
 * The canonical form of a key prefix: "" or folders ending in "/" ("a/b" and "a/b/" both
 * become "a/b/"). Anything that could climb out of the prefix, or that is not a plain
 * folder name, is refused.
 */
export function layoutPrefix(prefix: string): string {
  const p = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
  const climbs = p.split("/").some((seg) => seg === "." || seg === "..");
  if (!PREFIX_RE.test(p) || climbs) throw new InvalidKeyError(`invalid storage prefix: ${JSON.stringify(prefix)}`);
  return p;
}

/** What the layer cache remembers of a written layer. */
export interface LayerRecord {
  /** Compressed blob digest, `sha256:…`. */
  digest: string;
  /** Uncompressed tar digest, `sha256:…` (the config's rootfs diff_id). */
  diffId: string;
  /** Compressed size in bytes. */
  size: number;
  mediaType: string;
}

/** What the manifest cache remembers of a built image. */
export interface ImageRecord {
  /** Manifest digest, `sha256:…`; the manifest bytes are the blob at that digest. */
  digest: string;
  mediaType: string;
  size: number;
  /** The same image's manifest in the other format, when it was written too. */
  alternates?: { digest: string; mediaType: string; size: number }[];
  /** Source revision the image was built from (e.g. a git commit). */
  revision?: string;
  /** Digests of the image's SBOM and provenance documents (blobs), stored before this record. */
  sbom?: string;
  provenance?: string;
  createdAt?: string;
}

/**
 * Storage key of the referrers record of a manifest (`referrers/<hex>.json`): the artifacts
 * whose `subject` it is. Written after the artifacts, before the image record.
 */
export function referrersRecordKey(subjectDigest: string): string {
  return `referrers/${blobKey(subjectDigest).slice("blobs/sha256/".length)}.json`;
}

/** One artifact manifest in a referrers record, as the referrers API's index lists it. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType: string;
  annotations?: Record<string, string>;
}

/** What the store remembers of a manifest's referrers. */
export interface ReferrersRecord {
  manifests: ReferrerDescriptor[];
}
