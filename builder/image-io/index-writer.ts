/**
 * WriteIndex: the image index an edge composed from several platforms' manifests, stored as
 * a blob so that every edge (every Worker isolate) serves it by digest. The builder composes
 * the bytes itself from the entries, and only over manifests its store holds.
 */
import { createHash } from "node:crypto";
import { BuildError } from "../../common/build-error.ts";
import { DOCKER_MANIFEST_LIST, OCI_INDEX, imageIndexBytes, type IndexEntry, type IndexType } from "../../common/image-index.ts";
import type { BlobStore } from "../store/types.ts";
import { writeIndexReferrers } from "../supply/write.ts";
import { MEDIA_TYPES } from "../image/media-types.ts";

const MANIFESTS: readonly string[] = [MEDIA_TYPES.docker.manifest, MEDIA_TYPES.oci.manifest];
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/** More than every platform there is: anything beyond is not an index nixport writes. */
const MAX_ENTRIES = 8;

export async function writeIndex(store: BlobStore, type: string, entries: readonly IndexEntry[]): Promise<{ digest: string; size: number }> {
  if (type !== OCI_INDEX && type !== DOCKER_MANIFEST_LIST) throw new BuildError("invalid_argument", "not an image index media type");
  if (entries.length === 0 || entries.length > MAX_ENTRIES) throw new BuildError("invalid_argument", `an index lists 1 to ${MAX_ENTRIES} manifests`);
  for (const e of entries) {
    if (!DIGEST_RE.test(e.digest) || !MANIFESTS.includes(e.mediaType)) throw new BuildError("invalid_argument", "an index entry is not a manifest descriptor");
    const stat = await store.statBlob(e.digest);
    if (stat?.size !== e.size) throw new BuildError("invalid_argument", `manifest ${e.digest} is not in the store`);
  }
  const bytes = imageIndexBytes(type as IndexType, entries);
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  // The index's SBOMs and provenance first: a reader that sees the index sees its referrers.
  await writeIndexReferrers(store, { digest, mediaType: type, size: bytes.byteLength }, entries);
  await store.putBlobBytes(digest, bytes, type);
  return { digest, size: bytes.byteLength };
}
