import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../../common/build-error.ts";
import { toolEnv } from "../nix/env.ts";
import { run, type RunResult } from "../nix/run.ts";
import type { RefPatterns } from "./refs.ts";

/** Where the mirror keeps the remote's HEAD (what `latest` serves). */
const LATEST_REF = "refs/nixport/latest";
const MISSING_REF_RE = /couldn't find remote ref/;

export interface MirrorOptions {
  /** The remote as configured (may hold credentials: used only as a git argument). */
  url: string;
  /** The remote as clients may see it, for messages. */
  publicName: string;
  refs: RefPatterns;
  timeoutMs: number;
  /** Where git's environment is taken from; only what git needs passes (nix/env.ts). */
  env: NodeJS.ProcessEnv;
  /** Operator log: git's stderr goes here, never to a client. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * A bare mirror of the allowed refs of one remote. It keeps those refs, so each fetch
 * transfers only what is new; it asks the remote only for the refs it needs (fetch refspecs
 * become protocol v2 ref-prefixes, never a listing of every ref); a first fetch of a branch
 * is shallow; the history of every allowed ref is fetched only to check a commit tag.
 */
export class GitMirror {
  private inits: Promise<void> | undefined;
  private readonly env: NodeJS.ProcessEnv;
  /** Fetches run one at a time: concurrent ones would race for the same ref locks. */
  private queue: Promise<unknown> = Promise.resolve();
  private holdsRefs = false;

  constructor(readonly dir: string, private readonly o: MirrorOptions) {
    this.env = { ...toolEnv(o.env), GIT_TERMINAL_PROMPT: "0" };
  }

  /** The commit `latest` (the remote's HEAD) or a branch or tag name is at, fetched into the mirror. */
  fetchNamed(tag: string, signal?: AbortSignal): Promise<string> {
    return this.serial(() => this.fetchNamedNow(tag, signal));
  }

  private async fetchNamedNow(tag: string, signal?: AbortSignal): Promise<string> {
    await this.init();
    const refs = tag === "latest" ? [["HEAD", LATEST_REF]] : this.o.refs.candidates(tag).map((r) => [r, r]);
    if (!refs.length) throw new BuildError("not_found", `${JSON.stringify(tag)} is not an allowed branch or tag of ${this.o.publicName}`);
    const shallow = (await this.isShallow()) || !(await this.hasRefs());
    for (const [src, dst] of refs) {
      if (await this.fetch([`+${src}:${dst}`], { depth: shallow ? 1 : undefined, tolerateMissing: true }, signal)) return this.commitOf(dst!);
    }
    throw new BuildError("not_found", `no branch or tag ${JSON.stringify(tag)} in ${this.o.publicName}`);
  }

  /**
   * Whether an allowed ref reaches the commit. Asks the mirror first; else fetches the
   * allowed refs (with their whole history, if the mirror was shallow) and asks again. The
   * commit itself is never asked for: what no allowed ref reaches is never fetched.
   */
  async allowsCommit(commit: string, signal?: AbortSignal): Promise<boolean> {
    await this.init();
    if (await this.reachable(commit)) return true;
    return this.serial(async () => {
      if (await this.reachable(commit)) return true; // fetched while this call waited
      await this.fetchAllowed(signal);
      return this.reachable(commit);
    });
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.queue.then(f, f);
    this.queue = next.catch(() => {});
    return next;
  }

  private async fetchAllowed(signal?: AbortSignal): Promise<void> {
    const globs = this.o.refs.patterns.filter((p) => p.includes("*"));
    const unshallow = await this.isShallow();
    await this.fetch([`+HEAD:${LATEST_REF}`, ...globs.map((p) => `+${p}:${p}`)], { prune: true, unshallow }, signal);
    // A named ref the remote lacks would fail the whole fetch: each is fetched on its own.
    for (const ref of this.o.refs.patterns.filter((p) => !p.includes("*"))) await this.fetch([`+${ref}:${ref}`], { tolerateMissing: true }, signal);
  }

  private async reachable(commit: string): Promise<boolean> {
    if ((await this.git(["cat-file", "-e", `${commit}^{commit}`], { quiet: true })).code !== 0) return false;
    const r = await this.git(["for-each-ref", "--format=%(refname)", "--contains", commit]);
    return r.stdout.split("\n").some((ref) => ref === LATEST_REF || this.o.refs.allows(ref));
  }

  private async commitOf(ref: string): Promise<string> {
    return (await this.git(["rev-parse", "--verify", `${ref}^{commit}`])).stdout.trim();
  }

  /** Whether the mirror holds any ref yet; once it does it always will (one git call saved per fetch). */
  private async hasRefs(): Promise<boolean> {
    this.holdsRefs ||= (await this.git(["for-each-ref", "--count=1"])).stdout.trim() !== "";
    return this.holdsRefs;
  }

  private isShallow(): Promise<boolean> {
    return stat(join(this.dir, "shallow")).then(() => true, () => false);
  }

  private init(): Promise<void> {
    return (this.inits ??= (async () => {
      if (await stat(join(this.dir, "HEAD")).then(() => true, () => false)) return;
      await mkdir(this.dir, { recursive: true });
      await this.git(["init", "--quiet", "--bare"]);
    })().catch((e) => {
      this.inits = undefined;
      throw e;
    }));
  }

  /** `git fetch` of refspecs; false when tolerateMissing and the remote has no such ref. */
  private async fetch(refspecs: string[], o: { depth?: number; prune?: boolean; unshallow?: boolean; tolerateMissing?: boolean }, signal?: AbortSignal): Promise<boolean> {
    // A commit-graph makes the reachability check (for-each-ref --contains) fast on nixpkgs' history.
    const args = ["-c", "fetch.writeCommitGraph=true", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head"];
    if (o.depth) args.push(`--depth=${o.depth}`);
    if (o.prune) args.push("--prune");
    if (o.unshallow) args.push("--unshallow");
    const r = await this.git([...args, "--", this.o.url, ...refspecs], { signal, quiet: true });
    if (r.code === 0) return true;
    if (o.tolerateMissing && !r.timedOut && !r.aborted && MISSING_REF_RE.test(r.stderrTail)) return false;
    throw this.failure("fetch", r);
  }

  private async git(args: string[], o: { signal?: AbortSignal; quiet?: boolean } = {}): Promise<RunResult> {
    const r = await run("git", ["--git-dir", this.dir, ...args], { timeoutMs: this.o.timeoutMs, signal: o.signal, env: this.env });
    if (r.code !== 0 && !o.quiet) throw this.failure(args[0]!, r);
    return r;
  }

  /** A git failure as the client sees it: no stderr (it may name host paths or the credentials). */
  private failure(what: string, r: RunResult): BuildError {
    if (r.aborted) return new BuildError("cancelled", "cancelled while fetching the package source");
    this.o.log?.("git failed", { command: what, code: r.code, timedOut: r.timedOut, stderr: r.stderrTail.trim().split("\n").slice(-3).join("; ").split(this.o.url).join(this.o.publicName) });
    const why = r.timedOut ? "timed out" : `exit ${r.code}`;
    return new BuildError("unavailable", `git ${what} of ${this.o.publicName} failed (${why})`, { retryAfterSeconds: 30 });
  }
}
