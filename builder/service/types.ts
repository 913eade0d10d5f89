/**
 * The build service's own words for requests, progress and results, and the backend the
 * gRPC service serves (the gRPC layer maps them to the proto).
 */
import type { IndexEntry } from "../../common/image-index.ts";
import type { ImageRequest, WriteOptions } from "../../common/image-request.ts";

export type { Arch, LayerCompression, ManifestFormats } from "../../common/image-request.ts";

/** One build: the image request (the grammar's, shared with the edge) and how to write it. */
export interface ImageSpec extends ImageRequest, WriteOptions {}

export type BuildPhase =
  | "queued"
  | "resolving_source"
  | "checking_names"
  | "realising"
  | "planning"
  | "writing_layers"
  | "writing_manifest"
  | "done";

export type BuildEvent =
  | { type: "phase"; phase: BuildPhase; message: string; queuePosition?: number }
  | { type: "log"; line: string }
  /** `uploadMs`: how long a written layer's upload and record took (not sent to clients; for the build's log). */
  | { type: "layer"; index: number; count: number; digest: string; size: number; reused: boolean; storePaths: number; uploadMs?: number };

export interface BuiltManifest {
  content: Uint8Array;
  digest: string;
  mediaType: string;
  size: number;
}

export interface ImageResult {
  /** One per format written; Docker schema 2 first when both. */
  manifests: BuiltManifest[];
  revision: string;
  immutable: boolean;
  /** Resolved attribute paths, in image order. */
  packages: string[];
  /** The image's SPDX SBOM and in-toto provenance (blobs in the store, referrers of its manifests). */
  sbom?: StoredDocument;
  provenance?: StoredDocument;
}

export interface StoredDocument {
  digest: string;
  mediaType: string;
  content: Uint8Array;
}

/** Runs one build; emits progress; rejects with a BuildError. */
export type BuildFn = (spec: ImageSpec, emit: (e: BuildEvent) => void, signal: AbortSignal) => Promise<ImageResult>;

export interface RunOptions {
  /**
   * When this caller leaves and no other caller waits, cancel the build too. By default the
   * build goes on, and its result answers the next call for the same image.
   */
  cancelIfAbandoned?: boolean;
}

/** What the gRPC service needs from the builder. */
export interface BuilderBackend {
  build(spec: ImageSpec, onEvent: (e: BuildEvent) => void, signal: AbortSignal, opts?: RunOptions): Promise<ImageResult>;
  checkPackages(names: string[], tag: string, signal: AbortSignal): Promise<{ resolved: string[]; unknown: string[] }>;
  /** The Nix systems this builder can build (GetSystems); absent: not reported. */
  systems?(): Promise<string[]>;
  /** Stores an image index over manifests the store holds (WriteIndex); absent: not offered. */
  writeIndex?(type: string, entries: IndexEntry[]): Promise<{ digest: string; size: number }>;
  /** False while shutting down (health answers NOT_SERVING). */
  serving(): boolean;
}
