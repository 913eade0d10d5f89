import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PathSource } from "../../builder/sources.ts";
import { storePathName } from "../../builder/nix/graph.ts";
import type { NixSystem } from "../../builder/nix/nix.ts";
import { caught, testpkgsWith, testNix, testpkgsSource } from "../support/nix.ts";

const SYSTEM = "x86_64-linux";

/** A package set of the test's own, on top of testpkgs (ambiguous names, a slow build). */
function fixtureSet(): string {
  const dir = mkdtempSync(join(tmpdir(), "nixport-fixture-"));
  testpkgsWith(
    dir,
    `  fooBar = t.hello;
  FooBar = t.jq;
  slow = t.lib.mkPkg { pname = "slow"; version = "1"; description = "sleeps"; script = "sleep 600"; };`,
  );
  return dir;
}

describe("Nix driver with nix/testpkgs", () => {
  it("resolves names in one evaluation: nested, camelCase by lowercase spelling", async () => {
    const nix = testNix();
    const names = await nix.resolveNames(await testpkgsSource(), ["hello", "bashinteractive", "python3packages.requests", "python3Packages.six"], SYSTEM);
    expect(names.map((n) => n.attrPath.join("."))).toEqual(["hello", "bashInteractive", "python3Packages.requests", "python3Packages.six"]);
    expect(nix.invocations.count).toBe(1);
  });

  it("lists every unknown name, including nested ones and non-packages", async () => {
    const nix = testNix();
    const err = await caught(nix.resolveNames(await testpkgsSource(), ["hello", "nope", "python3packages.nope", "lib", "git", "nada.x"], SYSTEM));
    expect(err.kind).toBe("not_found");
    expect(err.details.unknownPackages).toEqual(["nope", "python3packages.nope", "lib", "nada.x"]);
    expect(err.message).toContain("lib (not a package)");
  });

  it("refuses a lowercase name that matches several attributes, naming the candidates", async () => {
    const nix = testNix();
    const source = await new PathSource(fixtureSet()).resolve("latest");
    const err = await caught(nix.resolveNames(source, ["foobar"], SYSTEM));
    expect(err.kind).toBe("not_found");
    expect(err.details.ambiguous).toEqual([{ name: "foobar", candidates: expect.arrayContaining(["FooBar", "fooBar"]) }]);
  });

  it("refuses hostile names before Nix runs at all", async () => {
    const nix = testNix();
    const source = await testpkgsSource();
    const hostile = ['${builtins.readFile "/etc/passwd"}', '"; rm -rf /', "../..", "x".repeat(10_000), "nul\u0000byte", 'hello" + (import <nixpkgs> {})'];
    for (const name of hostile) {
      const err = await caught(nix.resolveNames(source, ["hello", name], SYSTEM));
      expect(err.kind).toBe("invalid_argument");
    }
    expect(nix.invocations.count).toBe(0);
  });

  it("realises hello and reads its runtime closure graph", async () => {
    const nix = testNix();
    const source = await testpkgsSource();
    const names = await nix.resolveNames(source, ["hello"], SYSTEM);
    const realised = await nix.realise(source, names.map((n) => n.attrPath), SYSTEM);
    try {
      expect(realised.outputs).toHaveLength(1);
      const hello = realised.outputs[0]!;
      expect(execFileSync(join(hello, "bin/hello"), { encoding: "utf8" })).toBe("Hello, world!\n");
      const graph = await nix.closure(realised.outputs);
      expect(graph.roots).toEqual([hello]);
      const byName = new Map(graph.paths.map((p) => [storePathName(p.path), p]));
      const helloInfo = graph.paths.find((p) => p.path === hello)!;
      expect(helloInfo.narSize).toBeGreaterThan(0);
      // hello's script runs on busybox: a real runtime reference.
      const busybox = [...byName.keys()].find((n) => n.startsWith("busybox"));
      expect(busybox).toBeDefined();
      expect(helloInfo.references).toContain(byName.get(busybox!)!.path);
      // Every reference is itself in the closure.
      const all = new Set(graph.paths.map((p) => p.path));
      for (const p of graph.paths) for (const r of p.references) expect(all.has(r)).toBe(true);
      // The GC root keeps the outputs alive until released.
      expect(await nix.liveRoots()).toHaveLength(1);
    } finally {
      await realised.release();
    }
    expect(await nix.liveRoots()).toHaveLength(0);
  });

  it("gives git's closure with the libraries it references", async () => {
    const nix = testNix();
    const source = await testpkgsSource();
    const names = await nix.resolveNames(source, ["git"], SYSTEM);
    const realised = await nix.realise(source, names.map((n) => n.attrPath), SYSTEM);
    try {
      const graph = await nix.closure(realised.outputs);
      expect(graph.paths.length).toBeGreaterThanOrEqual(12);
      expect(graph.paths.length).toBeLessThanOrEqual(20);
      const names = graph.paths.map((p) => storePathName(p.path));
      for (const lib of ["glibc", "zlib", "openssl", "curl"]) expect(names.some((n) => n.startsWith(lib))).toBe(true);
      const git = graph.paths.find((p) => p.path === realised.outputs[0])!;
      expect(git.references.some((r) => storePathName(r).startsWith("curl"))).toBe(true);
    } finally {
      await realised.release();
    }
  });

  it("reports a failed build with its derivation and log tail", async () => {
    const nix = testNix();
    const source = await testpkgsSource();
    const names = await nix.resolveNames(source, ["broken"], SYSTEM);
    const err = await caught(nix.realise(source, names.map((n) => n.attrPath), SYSTEM));
    expect(err.kind).toBe("build_failed");
    expect(err.details.derivation).toMatch(/^\/nix\/store\/[a-z0-9]{32}-broken-.*\.drv$/);
    expect(err.details.logTail).toContain("error: this package is broken on purpose");
    expect(await nix.liveRoots()).toHaveLength(0);
  });

  it("says plainly when a package is for a system this host cannot build and no cache has", async () => {
    const nix = testNix();
    const source = await testpkgsSource();
    // riscv64: no host here builds it (aarch64 it may, under qemu-user: nix/setup-host.sh --arm64).
    // The registry never asks for it (NixSystem has no such member); Nix's answer is the same.
    const riscv = "riscv64-linux" as NixSystem;
    const names = await nix.resolveNames(source, ["hello"], riscv);
    const err = await caught(nix.realise(source, names.map((n) => n.attrPath), riscv));
    expect(err.kind).toBe("build_failed");
    expect(err.message).toMatch(/^no builder for riscv64-linux: \/nix\/store\/\S+\.drv is in no binary cache, and this x86_64-linux host cannot build it/);
    expect(err.details.derivation).toMatch(/^\/nix\/store\/[a-z0-9]{32}-.*\.drv$/);
    expect(await nix.liveRoots()).toHaveLength(0);
  });

  it("kills Nix when a build passes its deadline", async () => {
    const nix = testNix({ buildTimeoutMs: 1500 });
    const source = await new PathSource(fixtureSet()).resolve("latest");
    const started = Date.now();
    const err = await caught(nix.realise(source, [["slow"]], SYSTEM));
    expect(err.kind).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(15_000);
    // No nix-build is left running for it.
    const ps = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    expect(ps.split("\n").filter((l) => l.includes("slow") && l.includes("nix-build"))).toEqual([]);
    // Nor the builder it started (it runs in a process group of its own).
    expect(ps.split("\n").filter((l) => l.trim() === "sleep 600")).toEqual([]);
  });

  it("runs two concurrent builds of the same set to the same outputs", async () => {
    const nix = testNix();
    const source = await testpkgsSource();
    const attrPaths = [["htop"], ["jq"]];
    const [a, b] = await Promise.all([nix.realise(source, attrPaths, SYSTEM), nix.realise(source, attrPaths, SYSTEM)]);
    expect(a.outputs).toEqual(b.outputs);
    expect(a.outputs.every((p) => existsSync(p))).toBe(true);
    await Promise.all([a.release(), b.release()]);
  });
});
