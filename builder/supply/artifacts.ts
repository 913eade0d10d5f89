/**
 * OCI 1.1 artifact manifests for an image's SBOM and provenance: config = the empty
 * descriptor, one layer = the document, `subject` = the image manifest, so the referrers API
 * lists them for that manifest. Pure.
 */
import { canonicalJsonBytes } from "../../common/canonical-json.ts";
import type { ReferrerDescriptor } from "../../common/storage/layout.ts";
import { sha256Digest } from "../image/digest.ts";
import { MEDIA_TYPES } from "../image/media-types.ts";

export const EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json";
/** The empty JSON object `{}`, the config of every artifact (OCI image spec, "empty descriptor"). */
export const EMPTY_BLOB = new TextEncoder().encode("{}");
export const EMPTY_DESCRIPTOR = { mediaType: EMPTY_MEDIA_TYPE, digest: sha256Digest(EMPTY_BLOB), size: EMPTY_BLOB.length } as const;

export interface Blob {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  size: number;
}

export interface Subject {
  digest: string;
  mediaType: string;
  size: number;
}

/** A document (SBOM, provenance) as a blob of its media type. */
export function documentBlob(bytes: Uint8Array, mediaType: string): Blob {
  return { bytes, digest: sha256Digest(bytes), mediaType, size: bytes.length };
}

/** The artifact manifest whose one layer is `doc` (a stored blob), referring to `subject`. */
export function artifactManifest(doc: Subject, subject: Subject, annotations: Record<string, string>): { manifest: Blob; descriptor: ReferrerDescriptor } {
  const bytes = canonicalJsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.oci.manifest,
    artifactType: doc.mediaType,
    config: EMPTY_DESCRIPTOR,
    layers: [{ mediaType: doc.mediaType, digest: doc.digest, size: doc.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  });
  const manifest = documentBlob(bytes, MEDIA_TYPES.oci.manifest);
  return {
    manifest,
    descriptor: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, artifactType: doc.mediaType, annotations },
  };
}
