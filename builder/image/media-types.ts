/** Media types of the blobs nixport writes, and the layer compressions it knows. */

export type Compression = "gzip" | "zstd";
export type ManifestFormat = "docker" | "oci";

export const MEDIA_TYPES = {
  docker: {
    manifest: "application/vnd.docker.distribution.manifest.v2+json",
    config: "application/vnd.docker.container.image.v1+json",
    layer: { gzip: "application/vnd.docker.image.rootfs.diff.tar.gzip" } as Partial<Record<Compression, string>>,
  },
  oci: {
    manifest: "application/vnd.oci.image.manifest.v1+json",
    config: "application/vnd.oci.image.config.v1+json",
    layer: {
      gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
      zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
    } as Partial<Record<Compression, string>>,
  },
} as const;

/** The layer media type for a compression in a manifest format; throws when not allowed. */
export function layerMediaType(format: ManifestFormat, compression: Compression): string {
  const type = MEDIA_TYPES[format].layer[compression];
  if (!type) throw new Error(`${compression} layers cannot appear in a ${format} manifest (OCI only)`);
  return type;
}

/** The compression a layer media type (Docker or OCI) stands for. */
export function compressionOf(mediaType: string): Compression {
  for (const format of ["oci", "docker"] as const) {
    for (const [compression, type] of Object.entries(MEDIA_TYPES[format].layer)) {
      if (type === mediaType) return compression as Compression;
    }
  }
  throw new Error(`not a compressed layer media type: ${JSON.stringify(mediaType)}`);
}
