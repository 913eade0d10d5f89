/**
 * Remembers which blobs storage holds, so the blob answers of a pull (a HEAD per layer, a
 * GET that redirects) cost one storage lookup per blob per window, not one per request, and a
 * redirect is only ever handed out for a blob that exists: a client asking for an unknown
 * digest gets the registry's BLOB_UNKNOWN, not the bucket's own 404 page.
 *
 * Only presence is remembered, never absence (a blob being uploaded right now must be seen
 * the moment it lands), and only for `ttlMs`, so a blob removed from storage stops being
 * vouched for soon after.
 */
import type { BlobInfo, BlobReader } from "./types.ts";

export interface KnownBlobsOptions {
  /** How long a stat that found the blob is trusted. */
  ttlMs?: number;
  /** Most digests remembered; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

export function rememberingPresence(reader: BlobReader, options: KnownBlobsOptions = {}): BlobReader {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 50_000;
  const now = options.now ?? Date.now;
  const known = new Map<string, { size: number; until: number }>();

  const stat = async (digest: string): Promise<BlobInfo | null> => {
    const hit = known.get(digest);
    if (hit && hit.until > now()) return { digest, size: hit.size };
    known.delete(digest);
    const info = await reader.stat(digest);
    if (info) {
      if (known.size >= maxEntries) known.delete(known.keys().next().value!);
      known.set(digest, { size: info.size, until: now() + ttlMs });
    }
    return info;
  };
  const out: BlobReader = { stat, get: (digest, range) => reader.get(digest, range) };
  const blobURL = reader.blobURL?.bind(reader);
  if (blobURL) out.blobURL = blobURL;
  const readRecord = reader.readRecord?.bind(reader);
  if (readRecord) out.readRecord = readRecord;
  return out;
}
