import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitSource, PathSource } from "../../builder/sources.ts";
import { startGitHttp, type GitHttpServer } from "../support/git-http.ts";
import { caught, TESTPKGS, testNix } from "../support/nix.ts";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" }).trim();
const commitFile = (repo: string, file: string, text: string) => {
  writeFileSync(join(repo, file), text);
  git(repo, "add", ".");
  git(repo, "commit", "-qm", file);
  return git(repo, "rev-parse", "HEAD");
};
const cacheDir = () => mkdtempSync(join(tmpdir(), "nixport-src-"));
/** Whether the mirror holds an object (what was fetched). */
const mirrorHas = (src: GitSource, sha: string) => {
  try {
    execFileSync("git", ["--git-dir", src.mirror.dir, "cat-file", "-e", sha], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

let root: string;
let repo: string;
let first: string;
let second: string;
let side: string;
let pull: string;
let http: GitHttpServer;

beforeAll(async () => {
  // nix/testpkgs in git: main (first, second), branch stable and tag v1 at first, branch
  // side one commit off first, and a pull-request commit that no branch or tag reaches.
  root = mkdtempSync(join(tmpdir(), "nixport-git-root-"));
  repo = join(root, "pkgs.git");
  cpSync(TESTPKGS, repo, { recursive: true });
  git(repo, "init", "-q");
  git(repo, "config", "uploadpack.allowAnySHA1InWant", "true"); // as GitHub serves any commit
  git(repo, "config", "http.receivepack", "false");
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "first");
  first = git(repo, "rev-parse", "HEAD");
  git(repo, "tag", "-a", "-m", "v1", "v1");
  git(repo, "branch", "stable");
  git(repo, "checkout", "-qb", "side");
  side = commitFile(repo, "side", "side\n");
  git(repo, "checkout", "-q", "main");
  second = commitFile(repo, "marker", "second\n");
  git(repo, "checkout", "-q", "--detach");
  pull = commitFile(repo, "evil", "from a pull request\n");
  git(repo, "update-ref", "refs/pull/1/head", pull);
  git(repo, "checkout", "-q", "main");
  http = await startGitHttp(root);
});
afterAll(() => http?.close());

for (const transport of ["file", "http"] as const) {
  const url = () => (transport === "file" ? `file://${repo}` : `${http.url}pkgs.git`);

  describe(`git package source over ${transport}`, () => {
    it("serves a commit a branch reaches as immutable, with a cache key", async () => {
      const src = new GitSource(url(), { cacheDir: cacheDir() });
      const r = await src.resolve(first);
      expect(r).toMatchObject({ revision: first, immutable: true });
      expect(r.cacheKey).toMatch(/^[a-f0-9]{64}$/);
      expect(existsSync(join(r.pkgsPath, "default.nix"))).toBe(true);
      expect(existsSync(join(r.pkgsPath, "marker"))).toBe(false);
      expect((await src.resolve(first)).cacheKey).toBe(r.cacheKey);
      expect((await src.resolve(side)).revision).toBe(side);
    });

    it("answers not_found naming a pull-request commit, and fetches nothing of it", async () => {
      const src = new GitSource(url(), { cacheDir: cacheDir() });
      const err = await caught(src.resolve(pull));
      expect(err.kind).toBe("not_found");
      expect(err.message).toContain(pull);
      expect(mirrorHas(src, pull)).toBe(false);
      expect(src.checkouts.list()).toEqual([]);
      expect((await caught(src.resolve("0".repeat(40)))).kind).toBe("not_found");
    });

    it("resolves latest, branches and tags to commits, without a cache key", async () => {
      const src = new GitSource(url(), { cacheDir: cacheDir() });
      expect(await src.resolve("stable")).toMatchObject({ revision: first, immutable: false, cacheKey: null });
      expect(await src.resolve("v1")).toMatchObject({ revision: first, immutable: false });
      const latest = await src.resolve("latest");
      expect(latest.revision).toBe(second);
      expect(readFileSync(join(latest.pkgsPath, "marker"), "utf8")).toBe("second\n");
      expect((await caught(src.resolve("no-such-branch"))).kind).toBe("not_found");
    });

    it("serves only the refs the operator allows", async () => {
      const src = new GitSource(url(), { cacheDir: cacheDir(), refs: ["refs/heads/main", "refs/tags/v*"] });
      expect((await src.resolve("v1")).revision).toBe(first);
      expect((await src.resolve(second)).revision).toBe(second);
      for (const tag of ["stable", side]) {
        const err = await caught(src.resolve(tag));
        expect(err.kind).toBe("not_found");
        expect(err.message).toContain(tag);
      }
      expect(mirrorHas(src, side)).toBe(false);
    });
  });
}

describe("git mirror at scale", () => {
  it("fetches a first branch shallow, then only what is new; a commit tag deepens it", async () => {
    const work = mkdtempSync(join(tmpdir(), "nixport-git-grow-"));
    const upstream = join(work, "grow.git");
    git(work, "clone", "-q", repo, upstream);
    const server = await startGitHttp(work);
    try {
      const src = new GitSource(`${server.url}grow.git`, { cacheDir: cacheDir() });
      await src.resolve("latest");
      const firstBytes = server.bytesSent();
      expect(existsSync(join(src.mirror.dir, "shallow"))).toBe(true);
      const next = commitFile(upstream, "next", "a small change\n");
      expect((await src.resolve("latest")).revision).toBe(next);
      const nextBytes = server.bytesSent() - firstBytes;
      expect(nextBytes).toBeLessThan(firstBytes / 10);
      expect((await src.resolve(first)).revision).toBe(first);
      expect(existsSync(join(src.mirror.dir, "shallow"))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("asks the remote for the one ref it needs, not for every pull request's", async () => {
    const work = mkdtempSync(join(tmpdir(), "nixport-git-refs-"));
    const upstream = join(work, "many.git");
    git(work, "clone", "-q", "--bare", repo, upstream);
    // 5,000 pull-request refs: listing them all would take about 300 KB.
    const refs = Array.from({ length: 5000 }, (_, i) => `create refs/pull/${i}/head ${pull}\n`).join("");
    execFileSync("git", ["--git-dir", upstream, "update-ref", "--stdin"], { input: refs });
    const server = await startGitHttp(work);
    try {
      const src = new GitSource(`${server.url}many.git`, { cacheDir: cacheDir() });
      await src.resolve("latest");
      for (const tag of ["latest", "stable", "v1"]) {
        const before = server.bytesSent();
        await src.resolve(tag);
        expect(server.bytesSent() - before, tag).toBeLessThan(20_000);
      }
    } finally {
      await server.close();
    }
  });
});

describe("checkouts", () => {
  it("removes the least recently used unused checkout beyond the count, never one in use", async () => {
    const src = new GitSource(`file://${repo}`, { cacheDir: cacheDir(), keepCheckouts: 1 });
    const a = await src.resolve(first);
    const b = await src.resolve(second);
    expect(existsSync(a.pkgsPath) && existsSync(b.pkgsPath)).toBe(true); // both in use
    b.release!();
    expect(existsSync(b.pkgsPath)).toBe(true); // one unused checkout is within the count
    a.release!();
    await src.checkouts.settled();
    expect(existsSync(b.pkgsPath)).toBe(false); // a was used last: b goes
    expect(existsSync(a.pkgsPath)).toBe(true);
    const c = await src.resolve(side);
    expect(existsSync(a.pkgsPath)).toBe(true); // the only unused one
    c.release!();
    await src.checkouts.settled();
    expect(src.checkouts.list()).toEqual([side]);
    expect(existsSync(a.pkgsPath)).toBe(false);
  });

  it("a checkout asked for while its removal runs is made again, whole", async () => {
    const src = new GitSource(`file://${repo}`, { cacheDir: cacheDir(), keepCheckouts: 0 });
    for (let i = 0; i < 5; i++) {
      const a = await src.resolve(first);
      a.release!(); // its removal starts now; the next resolve must not get a folder being removed
      const again = await src.resolve(first);
      expect(existsSync(join(again.pkgsPath, "default.nix"))).toBe(true);
      again.release!();
    }
  });

  it("removes unused checkouts beyond the disk budget", async () => {
    const src = new GitSource(`file://${repo}`, { cacheDir: cacheDir(), checkoutBudgetBytes: 1 });
    const a = await src.resolve(first);
    a.release!();
    await src.checkouts.settled();
    expect(existsSync(a.pkgsPath)).toBe(false);
    const b = await src.resolve(second);
    expect(existsSync(b.pkgsPath)).toBe(true);
  });
});

describe("what clients learn of a git source", () => {
  it("a URL's credentials, a host path and git's stderr stay on the builder", async () => {
    const logged: unknown[] = [];
    const src = new GitSource("http://user:s3cret-token@127.0.0.1:9/pkgs.git", { cacheDir: cacheDir(), log: (m, f) => logged.push([m, f]) });
    expect(src.description).toBe("git http://127.0.0.1:9/pkgs.git");
    const err = await caught(src.resolve("latest"));
    expect(err.kind).toBe("unavailable");
    expect(err.details.retryAfterSeconds).toBeGreaterThan(0);
    expect(err.message).not.toMatch(/s3cret|fatal|unable|Failed to connect|\/tmp\//);
    expect(JSON.stringify(logged)).not.toContain("s3cret-token");
    expect(logged.length).toBeGreaterThan(0);
    const local = new GitSource(join(root, "missing-repo"), { cacheDir: cacheDir() });
    expect(local.description).toBe("git missing-repo");
    expect((await caught(local.resolve("latest"))).message).not.toContain(root);
  });

  it("refuses a tag that could be a git option", async () => {
    const src = new GitSource(`file://${repo}`, { cacheDir: cacheDir() });
    expect((await caught(src.resolve("-upload-pack=evil"))).kind).toBe("invalid_argument");
  });
});

describe("building from a checkout", () => {
  it("builds hello at a commit", async () => {
    const src = new GitSource(`file://${repo}`, { cacheDir: cacheDir() });
    const resolved = await src.resolve(first);
    const nix = testNix();
    const names = await nix.resolveNames(resolved, ["hello"], "x86_64-linux");
    const realised = await nix.realise(resolved, names.map((n) => n.attrPath), "x86_64-linux");
    try {
      expect(execFileSync(join(realised.outputs[0]!, "bin/hello"), { encoding: "utf8" })).toBe("Hello, world!\n");
    } finally {
      await realised.release();
      resolved.release!();
    }
  });
});

describe("path source", () => {
  it("serves latest only, named by its folder, never cached forever", async () => {
    const src = new PathSource(TESTPKGS);
    expect(src.description).toBe("path testpkgs");
    expect(await src.resolve("latest")).toMatchObject({ pkgsPath: TESTPKGS, revision: "latest", immutable: false, cacheKey: null });
    for (const tag of ["v1", "main", first]) expect((await caught(src.resolve(tag))).kind).toBe("not_found");
  });
});
