import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ChannelSource, GitSource, PathSource } from "../../builder/sources.ts";
import { caught, TESTPKGS, testNix } from "../support/nix.ts";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" }).trim();

let repo: string;
let first: string;
let second: string;

beforeAll(() => {
  // A git repository holding nix/testpkgs, with two commits, a branch and a tag.
  repo = mkdtempSync(join(tmpdir(), "nixport-pkgs-repo-"));
  cpSync(TESTPKGS, repo, { recursive: true });
  git(repo, "init", "-q");
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "first");
  first = git(repo, "rev-parse", "HEAD");
  git(repo, "tag", "v1");
  git(repo, "branch", "stable");
  writeFileSync(join(repo, "marker"), "second\n");
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "second");
  second = git(repo, "rev-parse", "HEAD");
});

describe("git package source", () => {
  it("treats a 40-hex tag as an immutable commit with a cache key", async () => {
    const src = new GitSource(repo, { cacheDir: mkdtempSync(join(tmpdir(), "nixport-src-")) });
    const r = await src.resolve(first);
    expect(r).toMatchObject({ revision: first, immutable: true });
    expect(r.cacheKey).toMatch(/^[a-f0-9]{64}$/);
    expect(existsSync(join(r.pkgsPath, "default.nix"))).toBe(true);
    expect(existsSync(join(r.pkgsPath, "marker"))).toBe(false);
    const again = await src.resolve(first);
    expect(again.cacheKey).toBe(r.cacheKey);
  });

  it("resolves branches, tags and latest to commits, without a cache key", async () => {
    const src = new GitSource(repo, { cacheDir: mkdtempSync(join(tmpdir(), "nixport-src-")) });
    expect(await src.resolve("stable")).toMatchObject({ revision: first, immutable: false, cacheKey: null });
    expect(await src.resolve("v1")).toMatchObject({ revision: first, immutable: false });
    const latest = await src.resolve("latest");
    expect(latest.revision).toBe(second);
    expect(readFileSync(join(latest.pkgsPath, "marker"), "utf8")).toBe("second\n");
  });

  it("answers not_found for a branch or commit the repository lacks, invalid_argument for a bad tag", async () => {
    const src = new GitSource(repo, { cacheDir: mkdtempSync(join(tmpdir(), "nixport-src-")) });
    expect((await caught(src.resolve("no-such-branch"))).kind).toBe("not_found");
    expect((await caught(src.resolve("0".repeat(40)))).kind).toMatch(/not_found|unavailable/);
    expect((await caught(src.resolve("-upload-pack=evil"))).kind).toBe("invalid_argument");
  });

  it("builds hello from a checkout at a commit", async () => {
    const src = new GitSource(repo, { cacheDir: mkdtempSync(join(tmpdir(), "nixport-src-")) });
    const resolved = await src.resolve(first);
    const nix = testNix();
    const names = await nix.resolveNames(resolved, ["hello"], "x86_64-linux");
    const realised = await nix.realise(resolved, names.map((n) => n.attrPath), "x86_64-linux");
    try {
      expect(execFileSync(join(realised.outputs[0]!, "bin/hello"), { encoding: "utf8" })).toBe("Hello, world!\n");
    } finally {
      await realised.release();
    }
  });

  it("reports an unreachable repository as unavailable", async () => {
    const src = new GitSource(join(tmpdir(), "does-not-exist-repo"), { cacheDir: mkdtempSync(join(tmpdir(), "nixport-src-")) });
    const err = await caught(src.resolve("latest"));
    expect(err.kind).toBe("unavailable");
    expect(err.details.retryAfterSeconds).toBeGreaterThan(0);
  });
});

describe("path and channel sources", () => {
  it("a local path is mutable and never cached forever", async () => {
    expect(await new PathSource(TESTPKGS).resolve("latest")).toMatchObject({ pkgsPath: TESTPKGS, immutable: false, cacheKey: null });
  });

  it("a channel maps latest to the configured channel and accepts channel-name tags only", async () => {
    const src = new ChannelSource("nixos-unstable");
    expect(await src.resolve("latest")).toMatchObject({ pkgsPath: "", nixPath: ["nixpkgs=channel:nixos-unstable"], immutable: false });
    expect((await src.resolve("nixos-24.05")).nixPath).toEqual(["nixpkgs=channel:nixos-24.05"]);
    expect((await caught(src.resolve("v1.2"))).kind).toBe("invalid_argument");
    expect(() => new ChannelSource("../../etc")).toThrow();
  });
});
