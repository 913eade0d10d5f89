/**
 * The image config (the blob the manifest's `config` points at), built as canonical JSON so
 * the same image always has the same config digest. Pure. The same bytes serve Docker and
 * OCI manifests; only the media type the manifest names differs.
 */
import { canonicalJsonBytes } from "./canonical-json.ts";
import { sha256Digest } from "./digest.ts";

/** Every timestamp in an image: fixed, so nothing varies with the build's wall clock. */
export const CREATED = "1970-01-01T00:00:01Z";
const PATH = "/bin:/usr/bin:/sbin:/usr/sbin";
const CA_BUNDLE = "/etc/ssl/certs/ca-bundle.crt";

export type Architecture = "amd64" | "arm64";

export interface ImageConfigInput {
  architecture: Architecture;
  /** Uncompressed layer digests, in layer order (bottom first). */
  diffIds: readonly string[];
  /** Per layer, what it holds (history comment); same length as diffIds when given. */
  layerComments?: readonly string[];
  /** Requested package names; order does not matter. */
  packages: readonly string[];
  /** Where the packages come from (channel, repository URL, path). */
  source?: string;
  /** Source revision (e.g. a git commit). */
  revision?: string;
  /** A shell in the image (see probeImage); becomes the default command. */
  shell?: string;
  /** Whether the image holds /etc/ssl/certs/ca-bundle.crt. */
  caBundle?: boolean;
}

/** A small blob, ready to store. */
export interface ConfigBlob {
  bytes: Uint8Array;
  digest: string;
  size: number;
}

export function imageConfigJson(input: ImageConfigInput): Record<string, unknown> {
  if (input.layerComments && input.layerComments.length !== input.diffIds.length) {
    throw new Error(`${input.layerComments.length} layer comments for ${input.diffIds.length} layers`);
  }
  const env = [`PATH=${PATH}`, ...(input.caBundle ? [`SSL_CERT_FILE=${CA_BUNDLE}`] : [])];
  const labels: Record<string, string> = {
    "nixport.packages": [...new Set(input.packages)].sort().join(","),
  };
  if (input.source !== undefined) labels["org.opencontainers.image.source"] = input.source;
  if (input.revision !== undefined) labels["org.opencontainers.image.revision"] = input.revision;
  return {
    architecture: input.architecture,
    ...(input.architecture === "arm64" ? { variant: "v8" } : {}),
    os: "linux",
    created: CREATED,
    config: { Env: env, Labels: labels, ...(input.shell ? { Cmd: [input.shell] } : {}) },
    rootfs: { type: "layers", diff_ids: [...input.diffIds] },
    history: input.diffIds.map((_, i) => ({
      created: CREATED,
      created_by: "nixport",
      ...(input.layerComments ? { comment: input.layerComments[i] } : {}),
    })),
  };
}

/** The config blob: canonical JSON bytes, digest and size. */
export function buildImageConfig(input: ImageConfigInput): ConfigBlob {
  const bytes = canonicalJsonBytes(imageConfigJson(input));
  return { bytes, digest: sha256Digest(bytes), size: bytes.length };
}
