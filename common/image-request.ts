/**
 * The image request: what every caller asks a builder for (a pull through the edge, a gRPC
 * or CLI build), in one canonical form with one key. Pure: the Worker bundles it.
 */
import { canonicalJson } from "./canonical-json.ts";

export type Arch = "amd64" | "arm64";
export type ManifestFormats = "both" | "docker" | "oci";
export type LayerCompression = "gzip" | "zstd";

export interface ImageRequest {
  arch: Arch;
  /**
   * Package attribute paths, sorted and de-duplicated (canonicalRequest). A pull's are
   * lowercase (the OCI grammar); gRPC callers may spell them camelCase.
   */
  packages: string[];
  /** Source ref (the OCI tag): "latest", a channel, a branch or a commit. */
  tag: string;
  /** Who the image runs as (the `nonroot/` prefix); absent: root. */
  user?: ImageUser;
  /** Image config settings of a programmatic build, checked and canonical; absent: none. */
  settings?: ImageSettings;
}

/** The user an image runs as: `root`, or `nonroot` (65532, as distroless images use). */
export type ImageUser = "root" | "nonroot";

/**
 * Settings of an image's config (the proto's ImageSettings), as the builder's checkSettings
 * returns them: an absent field leaves nixport's default.
 */
export interface ImageSettings {
  entrypoint?: string[];
  cmd?: string[];
  /** `NAME=value`, sorted by name, one per name. */
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** `port/protocol`, sorted, de-duplicated. */
  exposedPorts?: string[];
}

/** How the builder writes an image. A pull always gets both manifest formats and gzip layers. */
export interface WriteOptions {
  formats: ManifestFormats;
  compression: LayerCompression;
}

export const PULL_WRITE_OPTIONS: Readonly<WriteOptions> = { formats: "both", compression: "gzip" };

/** The canonical form: equal for requests that build the same image, whoever wrote them. */
export function canonicalRequest<T extends ImageRequest>(req: T): T {
  return { ...req, packages: [...new Set(req.packages)].sort(), tag: req.tag || "latest" };
}

/**
 * The one key of a canonical request, from the edge to the image record: it keys the edge's
 * tag cache, in-flight dedup and builder choice, the builder's single flight and failure
 * memory, and is what the image record's key takes from the request. Write options other
 * than a pull's are appended, so the same pull has the same key from every caller.
 */
export function requestKey(req: ImageRequest & Partial<WriteOptions>): string {
  let key = `${req.arch}/${req.packages.join("/")}:${req.tag}`;
  const formats = req.formats ?? PULL_WRITE_OPTIONS.formats;
  const compression = req.compression ?? PULL_WRITE_OPTIONS.compression;
  if (formats !== PULL_WRITE_OPTIONS.formats || compression !== PULL_WRITE_OPTIONS.compression) key += `;formats=${formats};compression=${compression}`;
  if (req.user && req.user !== "root") key += `;user=${req.user}`;
  if (req.settings && Object.keys(req.settings).length > 0) key += `;settings=${canonicalJson(req.settings)}`;
  return key;
}
