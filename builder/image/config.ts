/**
 * The image config (the blob the manifest's `config` points at), built as canonical JSON so
 * the same image always has the same config digest. Pure. The same bytes serve Docker and
 * OCI manifests; only the media type the manifest names differs.
 */
import { canonicalJsonBytes } from "../../common/canonical-json.ts";
import { homeOf, userConfig, type ImageUser } from "./base-system.ts";
import { sha256Digest } from "./digest.ts";
import { envName, type ImageSettings } from "./settings.ts";

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
  /** Who the image runs as; default root. */
  user?: ImageUser;
  /** The caller's settings (checked, canonical), laid over the defaults. */
  settings?: ImageSettings;
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
  const labels: Record<string, string> = {
    ...input.settings?.labels,
    "nixport.packages": [...new Set(input.packages)].sort().join(","),
  };
  if (input.source !== undefined) labels["org.opencontainers.image.source"] = input.source;
  if (input.revision !== undefined) labels["org.opencontainers.image.revision"] = input.revision;
  return {
    architecture: input.architecture,
    ...(input.architecture === "arm64" ? { variant: "v8" } : {}),
    os: "linux",
    created: CREATED,
    config: { ...runConfig(input), Labels: labels },
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

/** Env, Cmd, Entrypoint, User, WorkingDir, ExposedPorts: nixport's defaults, then the caller's settings. */
function runConfig(input: ImageConfigInput): Record<string, unknown> {
  const s = input.settings ?? {};
  const who = userConfig(input.user ?? "root");
  // OpenSSL reads SSL_CERT_FILE; Nix, and the programs nixpkgs patches, NIX_SSL_CERT_FILE.
  const certs = input.caBundle ? [`NIX_SSL_CERT_FILE=${CA_BUNDLE}`, `SSL_CERT_FILE=${CA_BUNDLE}`] : [];
  // A User setting naming one of the image's accounts brings that account's home along.
  const home = (s.user && homeOf(s.user)) || who.home;
  const defaults = [`HOME=${home}`, `PATH=${PATH}`, ...certs];
  const own = new Set((s.env ?? []).map(envName));
  const env = [...defaults.filter((e) => !own.has(envName(e))), ...(s.env ?? [])];
  // A shell as default command only without an entrypoint: it would become the entrypoint's argument.
  const cmd = s.cmd ?? (input.shell && !s.entrypoint ? [input.shell] : undefined);
  const user = s.user ?? who.user;
  return {
    Env: env,
    ...(s.entrypoint ? { Entrypoint: s.entrypoint } : {}),
    ...(cmd ? { Cmd: cmd } : {}),
    ...(user ? { User: user } : {}),
    ...(s.workingDir ? { WorkingDir: s.workingDir } : {}),
    ...(s.exposedPorts ? { ExposedPorts: Object.fromEntries(s.exposedPorts.map((p) => [p, {}])) } : {}),
  };
}
