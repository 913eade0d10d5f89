import { mkdir, readdir, rm } from "node:fs/promises";
import { join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { BuildError } from "../../common/build-error.ts";
import type { ResolvedSource } from "../sources.ts";
import type { ClosureGraph } from "./graph.ts";
import { parsePathInfo } from "./pathinfo.ts";
import { packageListProblems } from "../../common/names.ts";
import { DEFAULT_ALLOWED_PATHS, toolEnv } from "./env.ts";
import { hidePaths } from "./redact.ts";
import { run, type RunResult } from "./run.ts";

/** The folder of nix/ expressions shipped with nixport. */
export const NIX_EXPR_DIR = fileURLToPath(new URL("../../nix/", import.meta.url));
/** What of NIX_EXPR_DIR evaluation may read (not nix/testpkgs or the host scripts beside them). */
const EXPR_FILES = ["build.nix", "resolve.nix", "popularity.nix", "meta.nix", "lib"].map((f) => join(NIX_EXPR_DIR, f));

export type NixSystem = "x86_64-linux" | "aarch64-linux";

export interface NixOptions {
  /** Folder for GC roots of realised images (each build gets a subfolder, removed on release). */
  gcRootDir: string;
  /** Deadline for one realisation (default 30 minutes). */
  buildTimeoutMs?: number;
  /** Deadline for evaluation and queries (default 2 minutes). */
  evalTimeoutMs?: number;
  /** Where Nix's environment is taken from (default: process.env); see nix/env.ts for what passes. */
  env?: NodeJS.ProcessEnv;
  /**
   * Realise only what a binary cache has (`--max-jobs 0`): a derivation that would be built
   * here fails the build, named, instead of compiling on this host.
   */
  substituteOnly?: boolean;
  /** Further variables the operator passes to Nix (NIXPORT_NIX_ENV); never AWS_* or NIXPORT_*. */
  passEnv?: readonly string[];
  /** Host paths evaluation may read besides the package set (NIXPORT_NIX_ALLOWED_PATHS). */
  allowedPaths?: readonly string[];
  /**
   * Binary caches realisation may substitute from besides nix.conf's (NIXPORT_SUBSTITUTERS),
   * and the keys their narinfos must be signed with (NIXPORT_TRUSTED_KEYS).
   */
  substituters?: readonly string[];
  trustedKeys?: readonly string[];
  /** Called once per Nix process started: a hook for logs and for tests that count calls. */
  onInvoke?: (cmd: string, args: readonly string[]) => void;
}

/** What one name resolved to. */
export interface ResolvedName {
  name: string;
  attrPath: string[];
}

/** Realised outputs of a build; its GC root keeps them alive until `release()`. */
export interface Realised {
  outputs: string[];
  release(): Promise<void>;
}

interface NameRecord {
  name: string;
  status: "ok" | "unknown" | "ambiguous" | "notDerivation" | "evalError";
  attrPath: string[];
  candidates: string[];
}

const BUILD_FAILED_RE = /builder for '([^']+\.drv)' failed/;
/** Nix's answer when a derivation is for a system this host cannot build and no cache has it. */
const WRONG_SYSTEM_RE = /a '([^']+)' with features \{[^}]*\} is required to build '([^']+\.drv)', but I am a '([^']+)'/;
let rootSeq = 0;

/** Nix, driven as a tool: names in as JSON data, store paths and graphs out. */
export class Nix {
  readonly invocations = { count: 0 };
  private readonly buildTimeoutMs: number;
  private readonly evalTimeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: NixOptions) {
    this.buildTimeoutMs = opts.buildTimeoutMs ?? 30 * 60_000;
    this.evalTimeoutMs = opts.evalTimeoutMs ?? 120_000;
    this.env = toolEnv(opts.env ?? process.env, opts.passEnv);
  }

  /**
   * Checks every name against the package set in one evaluation and returns their attribute
   * paths. Throws invalid_argument for malformed names (before Nix runs) and not_found listing
   * every unknown, ambiguous or non-derivation name.
   */
  async resolveNames(source: ResolvedSource, names: readonly string[], system: NixSystem, signal?: AbortSignal): Promise<ResolvedName[]> {
    const problems = packageListProblems(names);
    if (problems.length) throw new BuildError("invalid_argument", problems.join("; "));
    const records = (await this.evalJson(source, system, "resolve.nix", ["--argstr", "namesJson", JSON.stringify(names)], "evaluating the package set", this.evalTimeoutMs, signal)) as NameRecord[];
    const unknown = records.filter((n) => n.status !== "ok");
    if (unknown.length) {
      const ambiguous = unknown.filter((n) => n.status === "ambiguous").map((n) => ({ name: n.name, candidates: n.candidates }));
      const detail = unknown.map((n) => describeUnknown(n)).join("; ");
      throw new BuildError("not_found", `unknown packages: ${detail}`, {
        unknownPackages: unknown.map((n) => n.name),
        ...(ambiguous.length ? { ambiguous } : {}),
      });
    }
    return records.map((n) => ({ name: n.name, attrPath: n.attrPath }));
  }

  /**
   * Popularity counts (store-path name → how many of the set's top-level packages hold it)
   * from one evaluation of the whole package set (nix/popularity.nix): nothing is built.
   */
  async popularity(source: ResolvedSource, system: NixSystem, signal?: AbortSignal): Promise<unknown> {
    return this.evalJson(source, system, "popularity.nix", [], "counting the package set's popularity", this.buildTimeoutMs, signal);
  }

  /**
   * License and homepage of the packages' outputs (and what they propagate), from the package
   * set's meta, in one evaluation that receives the attribute paths as data (nix/meta.nix).
   */
  async meta(source: ResolvedSource, attrPaths: string[][], system: NixSystem, signal?: AbortSignal): Promise<unknown> {
    return this.evalJson(source, system, "meta.nix", ["--argstr", "attrPathsJson", JSON.stringify(attrPaths)], "reading the packages' meta", this.evalTimeoutMs, signal);
  }

  /** One `nix-instantiate --eval --json --strict` of an expression of nix/, its arguments as data. */
  private async evalJson(source: ResolvedSource, system: NixSystem, expr: string, args: string[], what: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    const r = await this.nix("nix-instantiate", ["--eval", "--json", "--strict", ...this.common(source, system), ...args, join(NIX_EXPR_DIR, expr)], { timeoutMs, signal });
    if (r.code !== 0) throw evalFailure(r, what, this.hostPaths(source));
    return JSON.parse(r.stdout) as unknown;
  }

  /** Realises the packages' outputs, rooted under gcRootDir until released. */
  async realise(source: ResolvedSource, attrPaths: string[][], system: NixSystem, opts: { signal?: AbortSignal; onLog?: (line: string) => void } = {}): Promise<Realised> {
    const rootDir = join(this.opts.gcRootDir, `${process.pid}-${Date.now()}-${rootSeq++}`);
    await mkdir(rootDir, { recursive: true });
    const release = () => rm(rootDir, { recursive: true, force: true });
    try {
      const toBuild: string[] = [];
      const onLog = this.opts.substituteOnly ? (line: string) => (collectToBuild(line, toBuild), opts.onLog?.(line)) : opts.onLog;
      const r = await this.nix("nix-build", [
        ...(this.opts.substituteOnly ? ["--max-jobs", "0"] : []),
        ...this.substituterOptions(),
        ...this.common(source, system),
        "--argstr", "attrPathsJson", JSON.stringify(attrPaths),
        "--out-link", join(resolvePath(rootDir), "result"),
        join(NIX_EXPR_DIR, "build.nix"),
      ], { timeoutMs: this.buildTimeoutMs, signal: opts.signal, onStderrLine: onLog });
      if (r.aborted) throw new BuildError("cancelled", "build cancelled");
      if (r.timedOut) throw new BuildError("timeout", `nix-build ran past its ${Math.round(this.buildTimeoutMs / 1000)} s deadline and was stopped`);
      if (r.code !== 0 && this.opts.substituteOnly && NO_BUILDS_RE.test(r.stderrTail)) throw substituteOnlyRefusal(toBuild);
      if (r.code !== 0) throw await this.buildFailure(r, this.hostPaths(source));
      const outputs = r.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
      if (!outputs.length) throw new BuildError("internal", "nix-build returned no output paths");
      return { outputs, release };
    } catch (e) {
      await release();
      throw e;
    }
  }

  /** The runtime closure of `roots`: every path with its NAR size and references. */
  async closure(roots: string[], signal?: AbortSignal): Promise<ClosureGraph> {
    const r = await this.nix("nix", ["--extra-experimental-features", "nix-command", "path-info", "--json", "--recursive", "--", ...roots], {
      timeoutMs: this.evalTimeoutMs,
      signal,
    });
    if (r.code !== 0) throw evalFailure(r, "reading the closure graph", this.hostPaths());
    return { roots: [...roots], paths: parsePathInfo(JSON.parse(r.stdout)) };
  }

  /** Names of the live GC root folders (for tests and housekeeping). */
  async liveRoots(): Promise<string[]> {
    return readdir(this.opts.gcRootDir).catch(() => []);
  }

  /**
   * Removes the GC roots of builder processes that no longer run (killed before they could
   * release them), so Nix's garbage collector may reclaim those paths. A root folder's name
   * starts with the pid of the process that made it. Returns how many were removed.
   */
  async releaseOrphanedRoots(): Promise<number> {
    let removed = 0;
    for (const name of await this.liveRoots()) {
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      if (!pid || pid === process.pid || processExists(pid)) continue;
      await rm(join(this.opts.gcRootDir, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Evaluation is restricted (restrict-eval) to the package set, nixport's expressions, the
   * store and the operator's allowed paths; a channel's URLs are its allowed URIs. Builds are
   * sandboxed whatever nix.conf says. The search path is only what is given here (NIX_PATH is
   * never passed on), since restrict-eval lets evaluation read every search path entry.
   */
  private common(source: ResolvedSource, system: NixSystem): string[] {
    const readable = [...(source.pkgsPath ? [source.pkgsPath] : []), ...EXPR_FILES, ...(this.opts.allowedPaths ?? DEFAULT_ALLOWED_PATHS)];
    return [
      "--option", "restrict-eval", "true",
      "--option", "allowed-uris", (source.allowedUris ?? []).join(" "),
      "--option", "sandbox", "true",
      ...readable.flatMap((p) => ["-I", p]),
      ...source.nixPath.flatMap((p) => ["-I", p]),
      "--argstr", "pkgsPath", source.pkgsPath,
      "--argstr", "system", system,
    ];
  }

  /** extra-*: added to what nix.conf lists, never replacing it. */
  private substituterOptions(): string[] {
    const { substituters = [], trustedKeys = [] } = this.opts;
    return [
      ...(substituters.length ? ["--option", "extra-substituters", substituters.join(" ")] : []),
      ...(trustedKeys.length ? ["--option", "extra-trusted-public-keys", trustedKeys.join(" ")] : []),
    ];
  }

  /** Host paths a Nix message may hold, and what clients see instead. */
  private hostPaths(source?: ResolvedSource): Map<string, string> {
    const paths = new Map([[NIX_EXPR_DIR, "<nixport>/nix/"], [resolvePath(this.opts.gcRootDir), "<gcroots>"]]);
    if (source?.pkgsPath) paths.set(source.pkgsPath, "<package set>");
    return paths;
  }

  private async buildFailure(r: RunResult, paths: Map<string, string>): Promise<BuildError> {
    const drv = BUILD_FAILED_RE.exec(r.stderrTail)?.[1];
    let log = "";
    if (drv) {
      const l = await this.nix("nix-store", ["--read-log", drv], { timeoutMs: this.evalTimeoutMs });
      if (l.code === 0) log = l.stdout;
    }
    const logTail = hidePaths(lastLines(log || r.stderrTail, 25), paths);
    const wrongSystem = WRONG_SYSTEM_RE.exec(r.stderrTail);
    if (!drv && wrongSystem) {
      const [, wanted, derivation, host] = wrongSystem;
      return new BuildError(
        "build_failed",
        `no builder for ${wanted}: ${derivation} is in no binary cache, and this ${host} host cannot build it (configure a remote builder or a substituter for ${wanted})`,
        { derivation: derivation!, logTail },
      );
    }
    if (!drv) return evalFailure(r, "building", paths);
    return new BuildError("build_failed", `build of ${drv} failed`, { derivation: drv, logTail });
  }

  private nix(cmd: string, args: string[], opts: Parameters<typeof run>[2]): Promise<RunResult> {
    this.invocations.count++;
    this.opts.onInvoke?.(cmd, args);
    return run(cmd, args, { ...opts, env: this.env }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") throw new BuildError("unavailable", `${cmd} not found: is Nix installed on the builder host?`);
      throw e;
    });
  }
}

/** nix-build's answer under `--max-jobs 0` when something would have to be built here. */
const NO_BUILDS_RE = /unable to start any build/;
/** The lines after "these N derivations will be built:" (or "this derivation will be built:"). */
const TO_BUILD_RE = /^\s+(\/nix\/store\/[^\s]+\.drv)$/;

function collectToBuild(line: string, into: string[]): void {
  const m = TO_BUILD_RE.exec(line);
  if (m) into.push(m[1]!);
}

function substituteOnlyRefusal(toBuild: string[]): BuildError {
  const [first, ...rest] = toBuild;
  const what = first ? `${first}${rest.length ? ` (and ${rest.length} more derivations)` : ""}` : "a derivation";
  return new BuildError("denied", `substitute-only builder: ${what} is in no binary cache and would have to be built here`, first ? { derivation: first } : {});
}

function describeUnknown(n: NameRecord): string {
  switch (n.status) {
    case "ambiguous":
      return `${n.name} (ambiguous: ${n.candidates.join(", ")})`;
    case "notDerivation":
      return `${n.name} (not a package)`;
    case "evalError":
      return `${n.name} (fails to evaluate)`;
    default:
      return n.name;
  }
}

function evalFailure(r: RunResult, what: string, paths: Map<string, string>): BuildError {
  if (r.aborted) return new BuildError("cancelled", `cancelled while ${what}`);
  if (r.timedOut) return new BuildError("timeout", `Nix timed out while ${what}`);
  const stderr = hidePaths(r.stderrTail, paths);
  const errLine = stderr.split("\n").find((l) => l.startsWith("error:")) ?? `Nix failed while ${what}`;
  return new BuildError("build_failed", errLine.trim(), { logTail: lastLines(stderr, 25) });
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}
