/**
 * The image index of several platforms' manifests, as bytes: the edge serves it, the builder
 * stores it (WriteIndex), and both write the same bytes for the same entries (canonical JSON,
 * entries in the given order). Pure: the Worker bundles it.
 */
import { canonicalJsonBytes } from "./canonical-json.ts";
import type { Arch } from "./image-request.ts";
import { ociPlatform } from "./platforms.ts";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export type IndexType = typeof OCI_INDEX | typeof DOCKER_MANIFEST_LIST;

export interface IndexEntry {
  arch: Arch;
  mediaType: string;
  digest: string;
  size: number;
}

export function imageIndexBytes(type: IndexType, entries: readonly IndexEntry[]): Uint8Array {
  return canonicalJsonBytes({
    schemaVersion: 2,
    mediaType: type,
    manifests: entries.map((e) => ({ mediaType: e.mediaType, digest: e.digest, size: e.size, platform: ociPlatform(e.arch) })),
  });
}
