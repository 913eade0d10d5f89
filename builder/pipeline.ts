/**
 * One build, start to finish: source → names → Nix → closure → layer plan → layers (cached
 * ones reused, missing ones written in parallel and uploaded) → symlink forest → config →
 * manifests → image record. Records are written only after everything they point to.
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { imageRecordKey, layerRecordKey, type ImageRecord, type LayerRecord } from "../common/storage/layout.ts";
import { requestKey } from "../common/image-request.ts";
import { BuildError } from "../common/build-error.ts";
import {
  buildImageConfig,
  buildManifest,
  canonicalJson,
  layerMediaType,
  withBaseSystem,
  type ManifestBlob,
  type ManifestFormat,
} from "./image/index.ts";
import {
  forestTarEntries,
  planForestFromStore,
  probeImage,
  writeLayers,
  writeTarLayer,
  type WrittenLayer,
} from "./image-io/index.ts";
import { LayerFlights } from "./image-io/layer-flights.ts";
import { CREATED } from "./image/config.ts";
import { parseMeta } from "./supply/meta.ts";
import { writeSupplyChain, type SupplyChainDocuments } from "./supply/write.ts";
import { imageSupplyInput } from "./supply/image.ts";
import { IN_TOTO_MEDIA_TYPE } from "./supply/provenance.ts";
import { SPDX_MEDIA_TYPE } from "./supply/sbom.ts";
import { checkClosureSize, checkPackages, type BuildPolicy } from "./policy.ts";
import { planLayers, type PlannedLayer } from "./layers/plan.ts";
import type { DerivedPopularity } from "./layers/derived-popularity.ts";
import type { Popularity } from "./layers/popularity.ts";
import type { NarCache } from "./cache/nar-writer.ts";
import type { Nix, NixSystem } from "./nix/nix.ts";
import type { PackageSource, ResolvedSource } from "./sources.ts";
import { StorageError } from "../common/storage/errors.ts";
import { readStream } from "./store/errors.ts";
import type { BlobStore } from "./store/types.ts";
import type { BuildEvent, BuildFn, BuiltManifest, ImageResult, ImageSpec, LayerCompression, StoredDocument } from "./service/types.ts";

/** Bumped when anything that shapes an image's bytes changes, so old image records are not reused. */
export const IMAGE_FORMAT_VERSION = "nixport-image-v3";

export interface PipelineDeps {
  nix: Nix;
  source: PackageSource;
  store: BlobStore;
  /** Scratch folder for layer files before upload. */
  workDir: string;
  popularity?: Popularity;
  /** A digest of the popularity data: it shapes layers, so it is part of the image key. */
  popularityDigest?: string;
  /** Without `popularity`: popularity counted from each revision of the package set. */
  derivedPopularity?: DerivedPopularity;
  layerBudget?: number;
  writeParallelism?: number;
  /** What this builder agrees to build (package lists, closure cap). */
  policy?: BuildPolicy;
  /** Layer writes in flight across this builder's builds (one is made per pipeline when absent). */
  layerFlights?: LayerFlights<LayerRecord>;
  /** The provenance's builder id (NIXPORT_BUILDER_ID). */
  builderId?: string;
  /** The binary cache the closure's NARs and narinfos go to (builder/cache/); none when absent. */
  cache?: NarCache;
  /** Test hook: runs between writing a layer file and uploading it. */
  beforeUpload?: (layer: WrittenLayer) => Promise<void>;
}

const SYSTEMS: Record<ImageSpec["arch"], NixSystem> = { amd64: "x86_64-linux", arm64: "aarch64-linux" };

export function pipelineBuildFn(deps: PipelineDeps): BuildFn {
  const shared = { ...deps, layerFlights: deps.layerFlights ?? new LayerFlights<LayerRecord>() };
  return (spec, emit, signal) => buildImage(shared, spec, emit, signal);
}

async function buildImage(deps: PipelineDeps, spec: ImageSpec, emit: (e: BuildEvent) => void, signal: AbortSignal): Promise<ImageResult> {
  const phase = (p: Parameters<typeof emit>[0] & { type: "phase" }) => emit(p);
  const system = SYSTEMS[spec.arch];

  phase({ type: "phase", phase: "resolving_source", message: deps.source.description });
  const source = await deps.source.resolve(spec.tag, signal);
  try {
    return await buildFromSource(deps, spec, source, emit, signal);
  } finally {
    source.release?.(); // the checkout may be removed once no build reads it
  }
}

async function buildFromSource(deps: PipelineDeps, spec: ImageSpec, source: ResolvedSource, emit: (e: BuildEvent) => void, signal: AbortSignal): Promise<ImageResult> {
  const phase = (p: Parameters<typeof emit>[0] & { type: "phase" }) => emit(p);
  const system = SYSTEMS[spec.arch];
  phase({ type: "phase", phase: "checking_names", message: `${spec.packages.length} packages` });
  if (deps.policy) checkPackages(deps.policy, spec.packages);
  const names = await deps.nix.resolveNames(source, spec.packages, system, signal);
  // Spellings that resolve to one attribute ("bashinteractive", "bashInteractive") are one package.
  const attrPaths = [...new Map(names.map((n) => [n.attrPath.join("."), n.attrPath])).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, p]) => p);
  const packages = attrPaths.map((p) => p.join("."));

  // The image record's key is the request key (the one the edge and single flight use) of the
  // request as built, plus what else shapes the bytes. It cannot be the request key itself:
  // the tag becomes the source revision it resolved to (only immutable sources get records),
  // names become the attribute paths they resolved to (spellings of one attribute share a
  // record), and the builder's layer settings and format version shape the layers.
  const imageKey = source.cacheKey
    ? createHash("sha256")
        .update(canonicalJson({ v: IMAGE_FORMAT_VERSION, request: requestKey({ ...spec, packages, tag: source.cacheKey }), budget: deps.layerBudget ?? null, popularity: popularitySource(deps) }))
        .digest("hex")
    : null;
  if (imageKey) {
    const cached = await storing("reading the image cache", () => cachedImage(deps.store, imageKey, source.revision, packages));
    if (cached) {
      phase({ type: "phase", phase: "done", message: "served from the image cache" });
      return cached;
    }
  }

  const popularity = deps.popularity ?? (await deps.derivedPopularity?.get(source, system, signal)) ?? undefined;
  // Derived popularity that could not be counted: this image is served, but not recorded
  // under a key that promises layers planned with it.
  const recordable = deps.popularity !== undefined || !deps.derivedPopularity || popularity !== undefined;

  phase({ type: "phase", phase: "realising", message: packages.join(" ") });
  const realised = await deps.nix.realise(source, attrPaths, system, { signal, onLog: (line) => emit({ type: "log", line }) });
  try {
    const graph = await deps.nix.closure(realised.outputs, signal);
    if (deps.policy) checkClosureSize(deps.policy, graph);

    phase({ type: "phase", phase: "planning", message: `${graph.paths.length} store paths` });
    const plan = planLayers(graph, { budget: deps.layerBudget, popularity });
    const forest = withBaseSystem(await planForestFromStore(realised.outputs));
    const facts = await probeImage(forest);

    const count = plan.layers.length + 1;
    phase({ type: "phase", phase: "writing_layers", message: `${count} layers` });
    const layers = await storeLayers(deps, plan.layers, spec.compression, signal, (index, l, reused, storePaths, uploadMs) =>
      emit({ type: "layer", index, count, digest: l.digest, size: l.size, reused, storePaths, ...(uploadMs === undefined ? {} : { uploadMs }) }),
    );
    const forestFile = await writing(writeTarLayer(forestTarEntries(forest), { outDir: deps.workDir, compression: spec.compression, signal }));
    const uploadStarted = Date.now();
    const forestLayer = await upload(deps, forestFile);
    emit({ type: "layer", index: count, count, digest: forestLayer.digest, size: forestLayer.size, reused: false, storePaths: 0, uploadMs: Date.now() - uploadStarted });
    const all = [...layers, forestLayer];

    phase({ type: "phase", phase: "writing_manifest", message: "config and manifests" });
    const config = buildImageConfig({
      architecture: spec.arch,
      diffIds: all.map((l) => l.diffId),
      layerComments: [...plan.layers.map((l) => `store paths: ${l.paths.length}`), "symlink forest and base system"],
      packages,
      source: deps.source.description,
      revision: source.revision,
      ...facts,
      user: spec.user ?? "root",
      settings: spec.settings ?? {},
    });
    // Part of writing the layers (no phase of its own: clients know the phases' order).
    const cache = deps.cache;
    if (cache) await storing("writing the binary cache", () => cache.write(graph.paths, signal));
    const formats: ManifestFormat[] = spec.formats === "both" ? ["docker", "oci"] : [spec.formats];
    if (spec.compression === "zstd" && formats.includes("docker")) throw new BuildError("invalid_argument", "zstd layers need the OCI manifest format");
    const configType = formats.includes("oci") ? "application/vnd.oci.image.config.v1+json" : "application/vnd.docker.container.image.v1+json";
    await storing("writing the image config", () => deps.store.putBlobBytes(config.digest, config.bytes, configType));
    const manifests: ManifestBlob[] = [];
    for (const format of formats) {
      const m = buildManifest({ format, config, layers: all });
      await storing("writing the manifest", () => deps.store.putBlobBytes(m.digest, m.bytes, m.mediaType));
      manifests.push(m);
    }
    const docs = await writeDocuments(deps, spec, source, { packages, attrPaths, system, manifests, graph, signal });
    if (imageKey && recordable) {
      const [first, ...rest] = manifests;
      const record: ImageRecord = {
        digest: first!.digest,
        mediaType: first!.mediaType,
        size: first!.size,
        alternates: rest.map((m) => ({ digest: m.digest, mediaType: m.mediaType, size: m.size })),
        revision: source.revision,
        sbom: docs.sbom.digest,
        provenance: docs.provenance.digest,
      };
      await storing("writing the image record", () => deps.store.putRecord(imageRecordKey(imageKey), record));
    }
    phase({ type: "phase", phase: "done", message: manifests[0]!.digest });
    return { manifests: manifests.map(toBuilt), revision: source.revision, immutable: source.immutable, packages, sbom: stored(docs.sbom), provenance: stored(docs.provenance) };
  } finally {
    await realised.release();
  }
}

interface Built {
  packages: string[];
  attrPaths: string[][];
  system: NixSystem;
  manifests: ManifestBlob[];
  graph: Awaited<ReturnType<Nix["closure"]>>;
  signal: AbortSignal;
}

/** The image's SBOM and provenance, stored with their artifact manifests and referrers records. */
async function writeDocuments(deps: PipelineDeps, spec: ImageSpec, source: ResolvedSource, b: Built): Promise<SupplyChainDocuments> {
  const meta = parseMeta(await deps.nix.meta(source, b.attrPaths, b.system, b.signal));
  const input = imageSupplyInput(spec, { ...b, meta }, {
    builderId: deps.builderId,
    source: { description: deps.source.description, revision: source.revision },
    created: CREATED,
    tool: `nixport (${IMAGE_FORMAT_VERSION})`,
    internal: { formatVersion: IMAGE_FORMAT_VERSION, layerBudget: deps.layerBudget ?? null, compression: spec.compression, popularity: popularitySource(deps) },
  });
  return storing("writing the SBOM and provenance", () => writeSupplyChain(deps.store, input));
}

/** What shapes the plan's popularity, for the image key: the file's digest, or counts from the revision itself. */
function popularitySource(deps: PipelineDeps): string | null {
  return deps.popularityDigest ?? (deps.popularity || !deps.derivedPopularity ? null : "package-set-v1");
}

/** The layer cache's key for a planned layer in one compression. */
export function layerCacheKey(layerKey: string, compression: LayerCompression): string {
  return compression === "gzip" ? layerKey : createHash("sha256").update(`${layerKey}\n${compression}`).digest("hex");
}

type StoredLayer = LayerRecord;
/** `uploadMs`: how long this build's upload and record of a layer it wrote took. */
type OnLayer = (index: number, layer: StoredLayer, reused: boolean, storePaths: number, uploadMs?: number) => void;

/** How often a build writes a layer itself after the builds it joined failed to. */
const LAYER_ATTEMPTS = 3;

/**
 * Every planned layer as a stored blob. Each layer is joined when another build is writing
 * it right now (single flight, deps.layerFlights), else claimed; a claimed layer the store
 * holds (record present, blob present) is reused without reading a byte of the store; the
 * rest are written in parallel, uploaded and recorded (record after blob, and both before
 * the claim is released, so a later claimant finds the record). A layer whose writer failed
 * is tried again here.
 */
async function storeLayers(
  deps: PipelineDeps,
  planned: readonly PlannedLayer[],
  compression: LayerCompression,
  signal: AbortSignal,
  onLayer: OnLayer,
): Promise<StoredLayer[]> {
  const flights = deps.layerFlights ?? new LayerFlights<StoredLayer>();
  const keyOf = (i: number) => layerCacheKey(planned[i]!.key, compression);
  const out: (StoredLayer | undefined)[] = new Array(planned.length);
  const done = (i: number, record: StoredLayer, reused: boolean, uploadMs?: number) => ((out[i] = record), onLayer(i + 1, record, reused, planned[i]!.paths.length, uploadMs));
  let todo = planned.map((_, i) => i);
  for (let attempt = 1; todo.length; attempt++) {
    signal.throwIfAborted();
    const retry: number[] = [];
    const waits: Promise<void>[] = [];
    const claims = new Map<number, ReturnType<typeof flights.claim>>();
    // This build stops waiting when it is cancelled; the writer it joined goes on.
    const stopped = whenAborted(signal);
    for (const i of todo) {
      const written = flights.join(keyOf(i));
      if (!written) claims.set(i, flights.claim(keyOf(i)));
      else {
        const wait = Promise.race([written, stopped.aborted]).then(
          (record) => done(i, record, true),
          (err: unknown) => {
            if (signal.aborted || attempt >= LAYER_ATTEMPTS) throw err;
            retry.push(i);
          },
        );
        wait.catch(() => {}); // awaited in settleAll below, unless the lookup fails first
        waits.push(wait);
      }
    }
    try {
      const claimed = [...claims.keys()];
      const cached = await Promise.all(claimed.map((i) => storing("reading the layer cache", () => cachedLayer(deps.store, keyOf(i)))));
      const missing = claimed.filter((i, j) => {
        const record = cached[j];
        if (record) (claims.get(i)!.resolve(record), done(i, record, true));
        return !record;
      });
      const writes = writeMissing(deps, planned, missing, compression, signal, (i, record, uploadMs) => (claims.get(i)!.resolve(record), done(i, record, false, uploadMs)));
      await settleAll([writes, ...waits]);
    } finally {
      stopped.off();
      const failed = new BuildError("unavailable", "the build writing this layer stopped", { retryAfterSeconds: 5 });
      for (const claim of claims.values()) claim.reject(failed); // no-op for those resolved
    }
    todo = retry;
  }
  return out as StoredLayer[];
}

/** A layer's record when the store holds it whole, else undefined. */
async function cachedLayer(store: BlobStore, cacheKey: string): Promise<StoredLayer | undefined> {
  const record = await store.getRecord<LayerRecord>(layerRecordKey(cacheKey));
  if (!record) return undefined;
  const st = await store.statBlob(record.digest);
  return st?.size === record.size ? record : undefined;
}

/** A promise rejected when `signal` aborts (one listener, however many waits race it), and its removal. */
function whenAborted(signal: AbortSignal): { aborted: Promise<never>; off(): void } {
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  return { aborted, off: () => signal.removeEventListener("abort", onAbort) };
}

/** Writes the planned layers `missing` (indices), uploading and recording each as soon as it is written. */
async function writeMissing(
  deps: PipelineDeps,
  planned: readonly PlannedLayer[],
  missing: readonly number[],
  compression: LayerCompression,
  signal: AbortSignal,
  onStored: (i: number, record: StoredLayer, uploadMs: number) => void,
): Promise<void> {
  if (!missing.length) return;
  // Each layer is uploaded (and recorded, record after blob) as soon as it is written,
  // while the next ones are still being compressed; a failed upload stops the writing.
  const uploads: Promise<void>[] = [];
  const stop = new AbortController();
  const store = async (w: WrittenLayer, j: number) => {
    const i = missing[j]!;
    const started = Date.now();
    const record = await upload(deps, w);
    await storing("recording a layer", () => deps.store.putRecord(layerRecordKey(layerCacheKey(planned[i]!.key, compression)), record));
    onStored(i, record, Date.now() - started);
  };
  const onWritten = (w: WrittenLayer, j: number) => {
    const p = store(w, j);
    p.catch((err: unknown) => stop.abort(err)); // also marks it handled until settleAll below
    uploads.push(p);
  };
  const written = writing(
    writeLayers(
      missing.map((i) => ({ storePaths: planned[i]!.paths })),
      { outDir: deps.workDir, compression, signal: AbortSignal.any([signal, stop.signal]), parallel: deps.writeParallelism, onWritten },
    ),
  );
  written.catch(() => {}); // settled below, after the uploads
  // Every upload settles (and removes its file) before a failure is reported, so a failed
  // build leaves no scratch files behind and no upload runs on after it. An upload's own
  // failure comes first: the writing's is then only the abort it caused.
  await settleAll([...(await written.then(() => uploads, () => uploads)), written]);
}

/** Uploads a written layer file and removes it; the store keeps its own copy or link. */
async function upload(deps: PipelineDeps, w: WrittenLayer): Promise<StoredLayer> {
  try {
    await deps.beforeUpload?.(w);
    await storing("uploading a layer", () => deps.store.putBlobFile(w.digest, w.file, w.mediaType));
  } finally {
    await rm(w.file, { force: true });
  }
  return { digest: w.digest, diffId: w.diffId, size: w.size, mediaType: w.mediaType };
}

/** Like Promise.all, but waits for every promise to settle before throwing the first failure. */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** Errors of the host's disks that say nothing about the image: retry later, elsewhere. */
const DISK_ERRORS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO"]);

/** Layer writing whose disk failures (a full scratch folder) become a clear, retryable error. */
async function writing<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!code || !DISK_ERRORS.has(code)) throw err;
    throw new BuildError("unavailable", `storage failed while writing layers: ${diskMessage(code)}`, { retryAfterSeconds: 60 });
  }
}

/**
 * A call to the object store whose storage failure (S3 unreachable, disk full: a StorageError)
 * becomes a retryable BuildError naming the storage. Anything else it throws is a bug (a bad
 * key, a wrong argument) and goes on as it is, to be answered INTERNAL and logged.
 */
async function storing<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    const code = err.code;
    // A local error's message names server paths; its code says enough.
    const why = !code ? err.message : DISK_ERRORS.has(code) ? diskMessage(code) : `${code} (${err.syscall ?? "fs"})`;
    throw new BuildError("unavailable", `storage failed while ${what}: ${why}`, { retryAfterSeconds: 30 });
  }
}

function diskMessage(code: string): string {
  return code === "ENOSPC" || code === "EDQUOT" ? `no space left on the store's disk (${code})` : `disk error (${code})`;
}

function toBuilt(m: ManifestBlob): BuiltManifest {
  return { content: m.bytes, digest: m.digest, mediaType: m.mediaType, size: m.size };
}

/** The image for an immutable source, from its record and manifest blobs, or null. */
async function cachedImage(store: BlobStore, imageKey: string, revision: string, packages: string[]): Promise<ImageResult | null> {
  const record = await store.getRecord<ImageRecord>(imageRecordKey(imageKey));
  if (!record) return null;
  const manifests: BuiltManifest[] = [];
  for (const d of [record, ...(record.alternates ?? [])]) {
    const stream = await store.readBlob(d.digest);
    if (!stream) return null;
    const content = await readStream(stream);
    manifests.push({ content, digest: d.digest, mediaType: d.mediaType, size: content.length });
  }
  if (!record.sbom || !record.provenance) return null; // a record from before the documents: build again
  const sbom = await store.readBlob(record.sbom);
  const provenance = await store.readBlob(record.provenance);
  if (!sbom || !provenance) return null;
  return {
    manifests,
    revision,
    immutable: true,
    packages,
    sbom: { digest: record.sbom, mediaType: SPDX_MEDIA_TYPE, content: await readStream(sbom) },
    provenance: { digest: record.provenance, mediaType: IN_TOTO_MEDIA_TYPE, content: await readStream(provenance) },
  };
}

function stored(doc: SupplyChainDocuments["sbom"]): StoredDocument {
  return { digest: doc.digest, mediaType: doc.mediaType, content: doc.bytes };
}

export { layerMediaType };
