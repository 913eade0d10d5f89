import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { BuildError } from "../../common/build-error.ts";
import { toolEnv } from "../nix/env.ts";
import { publicUrl } from "../nix/redact.ts";
import type { PackageSource, ResolvedSource } from "../sources.ts";
import { checkTag, COMMIT_RE } from "./tag.ts";
import { Checkouts } from "./checkouts.ts";
import { GitMirror } from "./mirror.ts";
import { RefPatterns } from "./refs.ts";

export interface GitSourceOptions {
  /** Folder for the bare mirror and the checkouts. */
  cacheDir: string;
  /** Refs whose commits may be served (NIXPORT_PKGS_REFS; default branches and tags). */
  refs?: readonly string[];
  /** Limit for each git call (default 10 minutes: a first nixpkgs fetch is large). */
  timeoutMs?: number;
  /** Unused checkouts kept (default 8) and the disk they may take together (default 8 GiB). */
  keepCheckouts?: number;
  checkoutBudgetBytes?: number;
  /** Where git's environment is taken from (default process.env); secrets never pass. */
  env?: NodeJS.ProcessEnv;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * A git repository holding a package set. A 40-hex tag is a commit (immutable), served only
 * when an allowed ref reaches it; `latest` is the remote's HEAD; any other tag is an allowed
 * branch or tag, resolved to a commit on each call. Each commit is checked out once,
 * read-only, under cacheDir/checkouts/<id>/<commit>, and removed when unused for long.
 */
export class GitSource implements PackageSource {
  readonly kind = "git";
  readonly description: string;
  readonly mirror: GitMirror;
  readonly checkouts: Checkouts;
  private readonly publicName: string;

  constructor(private readonly url: string, opts: GitSourceOptions) {
    this.publicName = publicGitName(url);
    this.description = `git ${this.publicName}`;
    const id = createHash("sha256").update(url).digest("hex").slice(0, 16);
    const env = toolEnv(opts.env ?? process.env);
    const mirrorDir = join(opts.cacheDir, "git", `${id}.git`);
    this.mirror = new GitMirror(mirrorDir, {
      url,
      publicName: this.publicName,
      refs: new RefPatterns(opts.refs ?? ["refs/heads/*", "refs/tags/*"]),
      timeoutMs: opts.timeoutMs ?? 600_000,
      env,
      log: opts.log,
    });
    this.checkouts = new Checkouts(join(opts.cacheDir, "checkouts", id), mirrorDir, {
      keep: opts.keepCheckouts ?? 8,
      budgetBytes: opts.checkoutBudgetBytes ?? 8 * 1024 ** 3,
      env,
    });
  }

  async resolve(tag: string, signal?: AbortSignal): Promise<ResolvedSource> {
    checkTag(tag);
    const immutable = COMMIT_RE.test(tag);
    if (immutable && !(await this.mirror.allowsCommit(tag, signal))) {
      throw new BuildError("not_found", `commit ${tag} is not on an allowed branch or tag of ${this.publicName}`);
    }
    const commit = immutable ? tag : await this.mirror.fetchNamed(tag, signal);
    const lease = await this.checkouts.lease(commit, signal);
    const cacheKey = immutable ? createHash("sha256").update(`git\n${this.url}\n${commit}`).digest("hex") : null;
    return { pkgsPath: lease.dir, nixPath: [], revision: commit, immutable, cacheKey, release: lease.release };
  }
}

/**
 * A repository as clients may know it: its URL without credentials; a repository on the
 * builder's disk (a path or a file:// URL) by its folder's name only.
 */
export function publicGitName(url: string): string {
  const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith("file://");
  if (remote || /^[^/]+@[^/:]+:/.test(url)) return publicUrl(url);
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  return basename(path.replace(/\/+$/, "")).replace(/\.git$/, "") || "repository";
}
