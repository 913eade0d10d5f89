import { basename, join, resolve as resolvePath } from "node:path";
import { BuildError } from "../common/build-error.ts";
import { ChannelSource } from "./sources/channel.ts";
import { GitSource } from "./sources/git.ts";
import { int } from "./config.ts";
import { listSetting } from "./nix/env.ts";
import { checkTag } from "./sources/tag.ts";

export { ChannelSource } from "./sources/channel.ts";
export { GitSource } from "./sources/git.ts";

/** Where a build reads its package set from, for one tag. */
export interface ResolvedSource {
  /** Directory holding the package set's default.nix; "" for <nixpkgs> from `nixPath`. */
  pkgsPath: string;
  /** Extra `-I` entries for Nix, e.g. `nixpkgs=https://releases.nixos.org/…/nixexprs.tar.xz`. */
  nixPath: string[];
  /** URL prefixes evaluation may fetch from (restrict-eval's allowed-uris): what a channel needs. */
  allowedUris?: string[];
  /** The revision built from: a git commit (for a channel, the nixpkgs commit it resolved to), or `latest`. */
  revision: string;
  /** True when the tag names content that can never change (a git commit). */
  immutable: boolean;
  /** A key naming the exact package set, only when immutable. */
  cacheKey: string | null;
  /** Ends this use of pkgsPath (a git checkout is kept while any build reads it). */
  release?: () => void;
}

export interface PackageSource {
  readonly kind: "channel" | "git" | "path";
  /** Public name of the origin, e.g. `git https://github.com/NixOS/nixpkgs` (labels, landing page): no host path, no credentials. */
  readonly description: string;
  resolve(tag: string, signal?: AbortSignal): Promise<ResolvedSource>;
}


/**
 * A local directory. It has no revisions: it serves `latest` only (any other tag is not
 * found, rather than a fresh build of the same folder), and nothing built from it is cached
 * forever. Clients know it by its folder's name, never its host path.
 */
export class PathSource implements PackageSource {
  readonly kind = "path";
  readonly description: string;
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = resolvePath(dir);
    this.description = `path ${basename(this.dir)}`;
  }
  async resolve(tag: string): Promise<ResolvedSource> {
    checkTag(tag);
    if (tag !== "latest") throw new BuildError("not_found", `tag ${JSON.stringify(tag)} not found: the package set ${basename(this.dir)} serves only "latest"`);
    return { pkgsPath: this.dir, nixPath: [], revision: "latest", immutable: false, cacheKey: null };
  }
}

/** The package source the environment configures (path, then git, then channel). */
export function sourceFromEnv(env: NodeJS.ProcessEnv, dataDir: string, log?: (msg: string, fields?: Record<string, unknown>) => void): PackageSource {
  if (env.NIXPORT_PKGS_PATH) return new PathSource(env.NIXPORT_PKGS_PATH);
  if (env.NIXPORT_PKGS_REPO) {
    return new GitSource(env.NIXPORT_PKGS_REPO, {
      cacheDir: join(dataDir, "sources"),
      refs: listSetting(env.NIXPORT_PKGS_REFS, ["refs/heads/*", "refs/tags/*"]),
      keepCheckouts: int(env, "NIXPORT_CHECKOUTS_KEEP", 8),
      checkoutBudgetBytes: int(env, "NIXPORT_CHECKOUTS_MAX_MB", 8192) * 1024 * 1024,
      env,
      log,
    });
  }
  return new ChannelSource(env.NIXPORT_CHANNEL ?? "nixos-unstable", { baseUrl: env.NIXPORT_CHANNELS_URL });
}

