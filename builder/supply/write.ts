/**
 * Stores an image's SBOM and provenance: the documents, the empty config, one artifact
 * manifest per document and image manifest (each format has its own digest, so each gets its
 * referrers), then each manifest's referrers record. The caller writes the image record after.
 */
import { referrersRecordKey, type ReferrersRecord } from "../../common/storage/layout.ts";
import type { ClosureGraph } from "../nix/graph.ts";
import type { BlobStore } from "../store/types.ts";
import { artifactManifest, documentBlob, EMPTY_BLOB, EMPTY_DESCRIPTOR, type Blob, type Subject } from "./artifacts.ts";
import { buildProvenance, IN_TOTO_MEDIA_TYPE, type ProvenanceInput } from "./provenance.ts";
import { buildSbom, SPDX_MEDIA_TYPE, type PackageMeta } from "./sbom.ts";

/** The provenance's builder id when the operator names none (NIXPORT_BUILDER_ID). */
export const DEFAULT_BUILDER_ID = "urn:nixport:builder";

export interface SupplyChainInput {
  /** The image manifests, one per format. */
  manifests: readonly Subject[];
  graph: ClosureGraph;
  meta?: ReadonlyMap<string, PackageMeta>;
  created: string;
  tool: string;
  provenance: Omit<ProvenanceInput, "subjects">;
}

/** The documents as stored, for the final event and the image record. */
export interface SupplyChainDocuments {
  sbom: Blob;
  provenance: Blob;
}

export function supplyChainDocuments(input: SupplyChainInput): SupplyChainDocuments {
  const name = input.provenance.name;
  const sbom = documentBlob(buildSbom({ graph: input.graph, meta: input.meta, name, created: input.created, tool: input.tool }), SPDX_MEDIA_TYPE);
  const provenance = documentBlob(buildProvenance({ ...input.provenance, subjects: input.manifests.map((m) => m.digest) }), IN_TOTO_MEDIA_TYPE);
  return { sbom, provenance };
}

export async function writeSupplyChain(store: BlobStore, input: SupplyChainInput): Promise<SupplyChainDocuments> {
  const docs = supplyChainDocuments(input);
  await store.putBlobBytes(EMPTY_DESCRIPTOR.digest, EMPTY_BLOB, EMPTY_DESCRIPTOR.mediaType);
  for (const doc of [docs.sbom, docs.provenance]) await store.putBlobBytes(doc.digest, doc.bytes, doc.mediaType);
  const annotations = { "org.opencontainers.image.created": input.created };
  for (const subject of input.manifests) {
    const artifacts = [docs.sbom, docs.provenance].map((doc) => artifactManifest(doc, subject, annotations));
    for (const a of artifacts) await store.putBlobBytes(a.manifest.digest, a.manifest.bytes, a.manifest.mediaType);
    const record: ReferrersRecord = { manifests: artifacts.map((a) => a.descriptor) };
    await store.putRecord(referrersRecordKey(subject.digest), record);
  }
  return docs;
}
