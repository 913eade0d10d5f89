/**
 * Image manifests, Docker schema 2 and OCI, as canonical JSON. Pure. zstd layers exist only
 * in OCI manifests: asking for a Docker manifest over them is refused.
 */
import { canonicalJsonBytes } from "../../common/canonical-json.ts";
import { sha256Digest } from "./digest.ts";
import { compressionOf, layerMediaType, MEDIA_TYPES, type ManifestFormat } from "./media-types.ts";

export interface Descriptor {
  digest: string;
  size: number;
}

export interface ManifestInput {
  format: ManifestFormat;
  config: Descriptor;
  /** Layers bottom first; `mediaType` as the layer writer or layer cache gives it. */
  layers: readonly (Descriptor & { mediaType: string })[];
}

/** A manifest ready to store and serve. */
export interface ManifestBlob {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  size: number;
}

export function buildManifest(input: ManifestInput): ManifestBlob {
  const types = MEDIA_TYPES[input.format];
  const layers = input.layers.map((l) => ({
    mediaType: layerMediaType(input.format, compressionOf(l.mediaType)),
    digest: l.digest,
    size: l.size,
  }));
  const bytes = canonicalJsonBytes({
    schemaVersion: 2,
    mediaType: types.manifest,
    config: { mediaType: types.config, digest: input.config.digest, size: input.config.size },
    layers,
  });
  return { bytes, digest: sha256Digest(bytes), mediaType: types.manifest, size: bytes.length };
}
