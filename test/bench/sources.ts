/**
 * Suite `sources`: fetching a package set at nixpkgs scale. A repository is generated here
 * (git fast-import, deterministic: AES-CTR keystream content): 20,000 commits, each rewriting
 * one of 4,000 files of random bytes in 64 folders, so the history (≥ 200 MB) dwarfs the tip (≈ 42 MB),
 * as nixpkgs' does. It is served over HTTP by `git http-backend` (test/support/git-http.ts,
 * which counts the bytes it sends). Measured, beside a plain `git clone --bare` of the same
 * repository: a mirror's first fetch as a commit tag's check makes it (the allowed refs with
 * their whole history), then the fetch of `latest` after one more commit on the branch; and
 * the same from a mirror whose first fetch is `latest` (shallow). Times are of the mirror's
 * fetches, not of checkouts.
 * Tiny mode: 300 commits of 40 files.
 */
import { spawn, spawnSync } from "node:child_process";
import { createCipheriv } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { GitSource } from "../../builder/sources.ts";
import { startGitHttp, type GitHttpServer } from "../support/git-http.ts";
import { compared, figure, type Figure, type SuiteRun } from "./report.ts";
import { benchDir } from "./scratch.ts";

const SUITE = "sources";

interface Shape {
  commits: number;
  files: number;
  fileBytes: number;
}

/** Deterministic incompressible bytes: the AES-128-CTR keystream of a fixed key. */
function keystream(): (n: number) => Buffer {
  const cipher = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  return (n) => cipher.update(Buffer.alloc(n));
}

/**
 * File n's path: two levels of folders of about 64 entries each, as nixpkgs nests its
 * packages, so each commit writes three small trees rather than one tree of every file.
 */
function pathOf(n: number): string {
  return `pkgs/${(n % 64).toString(16).padStart(2, "0")}/${n}.bin`;
}

/** Streams `count` commits onto refs/heads/main into `git fast-import` (after `from`, if given). */
function fastImport(repo: string, shape: Shape, first: number, count: number, from?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["--git-dir", repo, "fast-import", "--quiet", "--done"], { stdio: ["pipe", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}`))));
    const bytes = keystream();
    for (let skip = 0; skip < first; skip++) bytes(shape.fileBytes); // the same content as a run from the start
    let i = first;
    const write = () => {
      while (i < first + count) {
        const msg = `commit ${i}\n`;
        const head = `commit refs/heads/main\ncommitter Bench <bench@nixport> ${1_700_000_000 + i} +0000\ndata ${msg.length}\n${msg}`;
        const parent = i === first && from ? `from ${from}\n` : "";
        const blob = bytes(shape.fileBytes);
        const chunk = Buffer.concat([Buffer.from(`${head}${parent}M 100644 inline ${pathOf(i % shape.files)}\ndata ${blob.length}\n`), blob, Buffer.from("\n")]);
        i++;
        if (!child.stdin.write(chunk)) return void child.stdin.once("drain", write);
      }
      child.stdin.end("done\n");
    };
    write();
  });
}

/** Bytes the server sent and milliseconds taken by one operation. */
async function measured(server: GitHttpServer, op: () => Promise<unknown>): Promise<{ bytes: number; ms: number }> {
  const before = server.bytesSent();
  const started = performance.now();
  await op();
  return { bytes: server.bytesSent() - before, ms: performance.now() - started };
}

const git = (repo: string, ...args: string[]) => spawnSync("git", ["--git-dir", repo, ...args], { encoding: "utf8" }).stdout.trim();

export const run: SuiteRun = async ({ note, tiny }) => {
  const shape: Shape = tiny ? { commits: 300, files: 40, fileBytes: 1024 } : { commits: 20_000, files: 4_000, fileBytes: 10_500 };
  const root = join(benchDir(SUITE), "run");
  rmSync(root, { recursive: true, force: true });
  const repo = join(root, "served", "pkgs.git");
  mkdirSync(repo, { recursive: true });
  spawnSync("git", ["init", "-q", "--bare", "-b", "main", repo]);
  spawnSync("git", ["--git-dir", repo, "config", "uploadpack.allowAnySHA1InWant", "true"]);
  let started = performance.now();
  await fastImport(repo, shape, 0, shape.commits);
  const historyBytes = Number(git(repo, "count-objects", "-v").match(/size-pack: (\d+)/)?.[1] ?? 0) * 1024;
  note(`generated ${shape.commits} commits, ${(historyBytes / 1e6).toFixed(0)} MB packed, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const server = await startGitHttp(join(root, "served"));
  try {
    const url = `${server.url}pkgs.git`;
    const clone = await measured(server, () => runGit(["clone", "--quiet", "--bare", url, join(root, "clone.git")]));
    const commit = () => fastImport(repo, shape, shape.commits + added, 1, "refs/heads/main^0").then(() => added++);
    let added = 0;
    // A mirror whose first fetch is a commit tag's check: the allowed refs with their history.
    const full = new GitSource(url, { cacheDir: join(root, "full") });
    const first = await measured(server, () => full.mirror.allowsCommit(git(repo, "rev-parse", "main~10")));
    await commit();
    const next = await measured(server, () => full.mirror.fetchNamed("latest"));
    // A mirror whose first fetch is `latest`: shallow.
    const shallow = new GitSource(url, { cacheDir: join(root, "shallow") });
    const shallowFirst = await measured(server, () => shallow.mirror.fetchNamed("latest"));
    await commit();
    const shallowNext = await measured(server, () => shallow.mirror.fetchNamed("latest"));
    note(`clone ${fmt(clone)}; first fetch ${fmt(first)}, next commit ${fmt(next)}; shallow first fetch ${fmt(shallowFirst)}, next commit ${fmt(shallowNext)}`);
    const fiveOf = (what: string) => ({ reference: what, target: { of: "ratio" as const, max: 0.05 } });
    const figures: Figure[] = [
      figure(SUITE, "sources.history_bytes", historyBytes, "B", tiny ? {} : { target: { of: "value", min: 200e6 } }),
      compared(SUITE, "sources.first_fetch_bytes", first.bytes, "B", clone.bytes, { reference: "git clone --bare" }),
      compared(SUITE, "sources.first_fetch_ms", first.ms, "ms", clone.ms, { reference: "git clone --bare" }),
      compared(SUITE, "sources.next_commit_bytes", next.bytes, "B", first.bytes, { label: "next commit on a branch, bytes ÷ the first fetch (whole history)", ...fiveOf("the first fetch") }),
      compared(SUITE, "sources.next_commit_ms", next.ms, "ms", first.ms, { label: "next commit on a branch, time ÷ the first fetch (whole history)", ...fiveOf("the first fetch") }),
      compared(SUITE, "sources.shallow_first_fetch_bytes", shallowFirst.bytes, "B", clone.bytes, { label: "first fetch of `latest` (shallow), bytes ÷ `git clone`", reference: "git clone --bare" }),
      compared(SUITE, "sources.shallow_next_commit_bytes", shallowNext.bytes, "B", shallowFirst.bytes, fiveOf("the shallow first fetch")),
      compared(SUITE, "sources.shallow_next_commit_ms", shallowNext.ms, "ms", shallowFirst.ms, fiveOf("the shallow first fetch")),
    ];
    return figures;
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
};

function fmt(m: { bytes: number; ms: number }): string {
  return `${(m.bytes / 1e6).toFixed(2)} MB in ${(m.ms / 1000).toFixed(2)} s`;
}

function runGit(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git ${args[0]} exited ${code}`))));
  });
}
