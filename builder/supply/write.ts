/**
 * Stores an image's SBOM and provenance: the documents, the empty config, one artifact
 * manifest per document and image manifest (each format has its own digest, so each gets its
 * referrers), then each manifest's referrers record. The caller writes the image record after.
 */
import type { IndexEntry } from "../../common/image-index.ts";
import { ociPlatform } from "../../common/platforms.ts";
import { referrersRecordKey, type ReferrersRecord } from "../../common/storage/layout.ts";
import type { ClosureGraph } from "../nix/graph.ts";
import { readStream } from "../store/errors.ts";
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

/** The annotation naming the platform whose image an index's artifact describes. */
export const PLATFORM_ANNOTATION = "io.nixport.platform";

/**
 * An image index's referrers: for each entry's SBOM and provenance (already stored with the
 * entry's manifest as subject), an artifact manifest over the same document whose subject is
 * the index, annotated with the entry's platform; then the index's referrers record. Entries
 * without artifacts (images older than them) add none.
 */
export async function writeIndexReferrers(store: BlobStore, index: Subject, entries: readonly IndexEntry[]): Promise<void> {
  const manifests: ReferrersRecord["manifests"] = [];
  for (const entry of entries) {
    const record = await store.getRecord<ReferrersRecord>(referrersRecordKey(entry.digest));
    const p = ociPlatform(entry.arch);
    const platform = [p.os, p.architecture, p.variant].filter(Boolean).join("/");
    for (const artifact of record?.manifests ?? []) {
      const stored = await readJson<{ layers: Subject[] }>(store, artifact.digest);
      const doc = stored?.layers[0];
      if (!doc) continue;
      const made = artifactManifest(doc, index, { ...artifact.annotations, [PLATFORM_ANNOTATION]: platform });
      await store.putBlobBytes(made.manifest.digest, made.manifest.bytes, made.manifest.mediaType);
      manifests.push(made.descriptor);
    }
  }
  if (manifests.length) await store.putRecord(referrersRecordKey(index.digest), { manifests } satisfies ReferrersRecord);
}

async function readJson<T>(store: BlobStore, digest: string): Promise<T | null> {
  const stream = await store.readBlob(digest);
  return stream ? (JSON.parse((await readStream(stream)).toString("utf8")) as T) : null;
}
