/** The build service's own words for requests, progress and results (the gRPC layer maps them). */

export type Arch = "amd64" | "arm64";
export type ManifestFormats = "both" | "docker" | "oci";
export type LayerCompression = "gzip" | "zstd";

export interface ImageSpec {
  /** Package names as requested (attribute paths, possibly lowercase spellings). */
  packages: string[];
  arch: Arch;
  /** Source ref: "latest", a commit, a branch, a tag or a channel name. */
  tag: string;
  formats: ManifestFormats;
  compression: LayerCompression;
}

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
}

/** Runs one build; emits progress; rejects with a BuildError. */
export type BuildFn = (spec: ImageSpec, emit: (e: BuildEvent) => void, signal: AbortSignal) => Promise<ImageResult>;

/** The canonical form of a request: what makes two requests the same build. */
export function canonicalSpec(spec: ImageSpec): ImageSpec {
  return {
    packages: [...new Set(spec.packages)].sort(),
    arch: spec.arch,
    tag: spec.tag || "latest",
    formats: spec.formats,
    compression: spec.compression,
  };
}

export function specKey(spec: ImageSpec): string {
  const c = canonicalSpec(spec);
  return JSON.stringify([c.arch, c.tag, c.formats, c.compression, c.packages]);
}
