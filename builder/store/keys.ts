/**
 * Checks on what callers hand a store, done before any I/O: storage keys come only from the
 * layout in common/storage/layout.ts, so no key can name anything outside the store's root or prefix.
 */
import { blobKey, CACHE_PUBLIC_KEY_KEY, imageRecordKey, InvalidKeyError, layerRecordKey, narInfoRecordKey, referrersRecordKey } from "../../common/storage/layout.ts";
import type { ByteRange } from "./types.ts";

export { InvalidKeyError };

/** A range that starts at or past the end of the blob (HTTP 416). */
export class RangeNotSatisfiableError extends Error {
  override name = "RangeNotSatisfiableError";
}

/** The storage key of a blob; throws InvalidKeyError unless `digest` is `sha256:<64 hex>`. */
export const blobKeyOf = blobKey;

const RECORD_RE = /^(layers|images|referrers|nix-cache)\/([^/]*)\.json$/;
const RECORD_KEYS: Record<string, (name: string) => string> = {
  layers: layerRecordKey,
  images: imageRecordKey,
  referrers: (name) => referrersRecordKey(`sha256:${name}`),
  "nix-cache": (name) => (name === "public-key" ? CACHE_PUBLIC_KEY_KEY : narInfoRecordKey(name)),
};

/**
 * `key` itself when it is exactly a record key as the layout builds them (`layers/<layerKey>.json`,
 * `images/<imageKey>.json`, `referrers/<hex>.json`, `nix-cache/<store hash>.json`,
 * `nix-cache/public-key.json`); InvalidKeyError for anything else (`..`, `/abs`, NUL, other folders).
 */
export function recordKeyOf(key: string): string {
  const m = RECORD_RE.exec(key);
  const name = m?.[2];
  if (m && name !== undefined) {
    try {
      const rebuilt = RECORD_KEYS[m[1]!]!(name);
      if (rebuilt === key) return key;
    } catch {
      // falls through to the error below, which names the whole key
    }
  }
  throw new InvalidKeyError(`not a record key of the layout: ${JSON.stringify(key)}`);
}

/** Rejects ranges no store could serve: negative, fractional, or ending before they start. */
export function checkRange(range: ByteRange | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${JSON.stringify(range)}`);
  }
}

/** `key` itself when it is a blob key or a record key of the layout; else InvalidKeyError. */
export function layoutKeyOf(key: string): string {
  if (key.startsWith("blobs/")) {
    const hex = key.slice("blobs/sha256/".length);
    if (key.startsWith("blobs/sha256/") && blobKeyOf(`sha256:${hex}`) === key) return key;
    throw new InvalidKeyError(`not a blob key of the layout: ${JSON.stringify(key)}`);
  }
  return recordKeyOf(key);
}
