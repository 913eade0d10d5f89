import { createHash } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { spawn } from "node:child_process";
import { join, resolve as resolvePath } from "node:path";
import { BuildError } from "./errors.ts";
import { run } from "./nix/run.ts";

/** Where a build reads its package set from, for one tag. */
export interface ResolvedSource {
  /** Directory holding the package set's default.nix; "" for <nixpkgs> from `nixPath`. */
  pkgsPath: string;
  /** Extra `-I` entries for Nix, e.g. `nixpkgs=channel:nixos-unstable`. */
  nixPath: string[];
  /** The revision built from: a git commit, a channel name, or a local path. */
  revision: string;
  /** True when the tag names content that can never change (a git commit). */
  immutable: boolean;
  /** A key naming the exact package set, only when immutable. */
  cacheKey: string | null;
}

export interface PackageSource {
  readonly kind: "channel" | "git" | "path";
  /** Human-readable origin, e.g. `git file:///srv/pkgs` (for labels and the landing page). */
  readonly description: string;
  resolve(tag: string, signal?: AbortSignal): Promise<ResolvedSource>;
}

/** OCI tag grammar; a tag is also safe as a git ref argument (it cannot start with '-'). */
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const COMMIT_RE = /^[0-9a-f]{40}$/;
const CHANNEL_RE = /^(nixos-(unstable|\d{2}\.\d{2})(-small)?|nixpkgs-unstable|nixpkgs-\d{2}\.\d{2}-darwin)$/;

function checkTag(tag: string): void {
  if (!TAG_RE.test(tag)) throw new BuildError("invalid_argument", `invalid tag ${JSON.stringify(tag)}`);
}

/** A local directory; it can change at any time, so nothing built from it is cached forever. */
export class PathSource implements PackageSource {
  readonly kind = "path";
  readonly description: string;
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = resolvePath(dir);
    this.description = `path ${this.dir}`;
  }
  async resolve(tag: string): Promise<ResolvedSource> {
    checkTag(tag);
    return { pkgsPath: this.dir, nixPath: [], revision: this.dir, immutable: false, cacheKey: null };
  }
}

/** A nixpkgs channel: `latest` is the configured channel, another tag names a channel. */
export class ChannelSource implements PackageSource {
  readonly kind = "channel";
  readonly description: string;
  constructor(private readonly channel: string) {
    if (!CHANNEL_RE.test(channel)) throw new Error(`not a nixpkgs channel name: ${JSON.stringify(channel)}`);
    this.description = `channel ${channel}`;
  }
  async resolve(tag: string): Promise<ResolvedSource> {
    checkTag(tag);
    const channel = tag === "latest" ? this.channel : tag;
    if (!CHANNEL_RE.test(channel)) {
      throw new BuildError("invalid_argument", `tag ${JSON.stringify(tag)} is neither "latest" nor a channel name`);
    }
    return { pkgsPath: "", nixPath: [`nixpkgs=channel:${channel}`], revision: channel, immutable: false, cacheKey: null };
  }
}

export interface GitSourceOptions {
  /** Folder for the bare mirror and the checkouts. */
  cacheDir: string;
  /** Limit for each git call (default 10 minutes: a first nixpkgs fetch is large). */
  timeoutMs?: number;
}

/**
 * A git repository holding a package set. A 40-hex tag is a commit (immutable); `latest` is
 * the remote's HEAD; any other tag is a branch or tag name, resolved to a commit on each call.
 * Each commit is checked out once, read-only, under cacheDir/checkouts/<commit>.
 */
export class GitSource implements PackageSource {
  readonly kind = "git";
  readonly description: string;
  private readonly mirror: string;
  private readonly checkouts: string;
  private readonly timeoutMs: number;
  private inits: Promise<void> | undefined;

  constructor(private readonly url: string, opts: GitSourceOptions) {
    this.description = `git ${url}`;
    const id = createHash("sha256").update(url).digest("hex").slice(0, 16);
    this.mirror = join(opts.cacheDir, "git", `${id}.git`);
    this.checkouts = join(opts.cacheDir, "checkouts", id);
    this.timeoutMs = opts.timeoutMs ?? 600_000;
  }

  async resolve(tag: string, signal?: AbortSignal): Promise<ResolvedSource> {
    checkTag(tag);
    await (this.inits ??= this.init());
    const commit = COMMIT_RE.test(tag) ? tag : await this.remoteCommit(tag, signal);
    if (!(await this.hasCommit(commit))) await this.git(["fetch", "--quiet", "--no-tags", "--", this.url, commit], signal);
    if (!(await this.hasCommit(commit))) throw new BuildError("not_found", `commit ${commit} not found in ${this.url}`);
    const pkgsPath = await this.checkout(commit, signal);
    const immutable = COMMIT_RE.test(tag);
    const cacheKey = immutable ? createHash("sha256").update(`git\n${this.url}\n${commit}`).digest("hex") : null;
    return { pkgsPath, nixPath: [], revision: commit, immutable, cacheKey };
  }

  private async init(): Promise<void> {
    const exists = await stat(join(this.mirror, "HEAD")).then(() => true, () => false);
    if (exists) return;
    await mkdir(this.mirror, { recursive: true });
    await this.git(["init", "--quiet", "--bare"]);
  }

  private async remoteCommit(tag: string, signal?: AbortSignal): Promise<string> {
    const wanted = tag === "latest" ? ["HEAD"] : [`refs/heads/${tag}`, `refs/tags/${tag}^{}`, `refs/tags/${tag}`];
    const out = await this.git(["ls-remote", "--", this.url], signal);
    const refs = new Map<string, string>();
    for (const line of out.split("\n")) {
      const [sha, ref] = line.split("\t");
      if (sha && ref) refs.set(ref, sha);
    }
    for (const ref of wanted) {
      const sha = refs.get(ref);
      if (sha) return sha;
    }
    throw new BuildError("not_found", `no branch or tag ${JSON.stringify(tag)} in ${this.url}`);
  }

  private async hasCommit(commit: string): Promise<boolean> {
    const r = await run("git", ["--git-dir", this.mirror, "cat-file", "-e", `${commit}^{commit}`]);
    return r.code === 0;
  }

  private async checkout(commit: string, signal?: AbortSignal): Promise<string> {
    const dir = join(this.checkouts, commit);
    if (await stat(dir).then(() => true, () => false)) return dir;
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(tmp, { recursive: true });
    try {
      await extract(this.mirror, commit, tmp, signal);
      await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
        // Another build checked the same commit out first: theirs is as good as ours.
        if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return dir;
  }

  private async git(args: string[], signal?: AbortSignal): Promise<string> {
    const r = await run("git", ["--git-dir", this.mirror, ...args], {
      timeoutMs: this.timeoutMs,
      signal,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
    if (r.aborted) throw new BuildError("cancelled", "cancelled while fetching the package source");
    if (r.code !== 0) {
      const why = r.timedOut ? "timed out" : r.stderrTail.trim().split("\n").slice(-3).join("; ");
      throw new BuildError("unavailable", `git ${args[0]} of ${this.url} failed: ${why}`, { retryAfterSeconds: 30 });
    }
    return r.stdout;
  }
}

/** `git archive COMMIT | tar -x -C dir`, without a shell. */
function extract(mirror: string, commit: string, dir: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = spawn("git", ["--git-dir", mirror, "archive", "--format=tar", commit], { stdio: ["ignore", "pipe", "pipe"], signal });
    const tar = spawn("tar", ["-x", "-C", dir], { stdio: ["pipe", "ignore", "pipe"], signal });
    archive.stdout.pipe(tar.stdin);
    let err = "";
    archive.stderr.on("data", (b) => (err += b));
    tar.stderr.on("data", (b) => (err += b));
    let left = 2;
    let failed = false;
    const done = (code: number | null) => {
      if (code !== 0) failed = true;
      if (--left === 0) failed ? reject(new Error(`checkout of ${commit} failed: ${err.trim()}`)) : resolve();
    };
    archive.on("close", done);
    tar.on("close", done);
    archive.on("error", reject);
    tar.on("error", reject);
  });
}

/** The package source the environment configures (path, then git, then channel). */
export function sourceFromEnv(env: NodeJS.ProcessEnv, dataDir: string): PackageSource {
  if (env.NIXPORT_PKGS_PATH) return new PathSource(env.NIXPORT_PKGS_PATH);
  if (env.NIXPORT_PKGS_REPO) return new GitSource(env.NIXPORT_PKGS_REPO, { cacheDir: join(dataDir, "sources") });
  return new ChannelSource(env.NIXPORT_CHANNEL ?? "nixos-unstable");
}
