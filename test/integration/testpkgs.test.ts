// The network-free package set nix/testpkgs, built with the real Nix: its shape (names,
// derivations, non-derivations), runnable scripts, real runtime references, two outputs,
// a failing build, and the benchmark generators.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const pkgsDir = fileURLToPath(new URL("../../nix/testpkgs", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Runs a program without a shell; resolves with its exit code instead of throwing.
function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// nix-build of attribute paths of the package set; returns the output store paths.
async function build(...attrs: string[]): Promise<string[]> {
  const args = ["--no-out-link", pkgsDir, ...attrs.flatMap((a) => ["-A", a])];
  const r = await run("nix-build", args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split("\n");
}

// Evaluates `expr`, a function of { dir } (the package set's folder), to JSON.
async function evalJson(expr: string): Promise<unknown> {
  const r = await run("nix-instantiate", ["--eval", "--strict", "--json", "--expr", expr, "--argstr", "dir", pkgsDir]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

interface PathInfo {
  path: string;
  narSize: number;
  references: string[];
}

// `nix path-info --json -r`: Nix 2.8 prints a list, Nix >= 2.19 an object keyed by path.
async function closure(path: string): Promise<Map<string, PathInfo>> {
  const r = await run("nix", ["path-info", "--json", "-r", path]);
  expect(r.code, r.stderr).toBe(0);
  const raw = JSON.parse(r.stdout) as PathInfo[] | Record<string, Omit<PathInfo, "path">>;
  const list = Array.isArray(raw) ? raw : Object.entries(raw).map(([p, v]) => ({ ...v, path: p }));
  return new Map(list.map((i) => [i.path, i]));
}

// The store path in `paths` whose name (after the hash) starts with `name-`.
function named(paths: Iterable<string>, name: string): string | undefined {
  return [...paths].find((p) => p.slice(44).startsWith(`${name}-`));
}

describe("nix/testpkgs", () => {
  it("is an attribute set of at least 20 derivations with distinct names and some non-derivations", async () => {
    const kinds = (await evalJson(
      "{ dir }: let p = import (/. + dir) { }; in builtins.mapAttrs (n: v: v.type or (builtins.typeOf v)) p",
    )) as Record<string, string>;
    const drvs = Object.keys(kinds).filter((n) => kinds[n] === "derivation");
    expect(drvs.length).toBeGreaterThanOrEqual(20);
    for (const n of ["glibc", "busybox", "bash", "bashInteractive", "coreutils", "moreutils", "nano", "hello", "git", "htop", "jq", "less", "curl", "python3", "perl", "cacert", "openssl", "zlib", "broken"]) {
      expect(kinds[n], n).toBe("derivation");
    }
    expect(kinds["version"]).toBe("string");
    expect(kinds["lib"]).toBe("set");
    expect(kinds["python3Packages"]).toBe("set");
    const lower = Object.keys(kinds).map((n) => n.toLowerCase());
    expect(new Set(lower).size).toBe(lower.length);
  });

  it("builds hello, whose script prints the greeting through a store-path shebang", async () => {
    const [out] = await build("hello");
    const script = join(out!, "bin", "hello");
    expect(readFileSync(script, "utf8")).toMatch(/^#!\/nix\/store\/[a-z0-9]{32}-busybox-[^/]+\/bin\/sh\n/);
    const r = await run(script, []);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Hello, world!\n");
  });

  it("builds hello for aarch64-linux (qemu-user): an arm64 busybox runs its script, on a base of its own", async () => {
    const r = await run("nix-build", ["--no-out-link", pkgsDir, "--argstr", "system", "aarch64-linux", "-A", "hello"]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trim();
    const shell = /^#!(\S+)\n/.exec(readFileSync(join(out, "bin", "hello"), "utf8"))![1]!;
    // ELF e_machine (offset 18, little-endian): 0xb7 is AArch64, 0x3e x86-64.
    expect(readFileSync(shell).readUInt16LE(18)).toBe(0xb7);
    const [amd64] = await build("hello");
    expect(out).not.toBe(amd64);
    const hello = await run(join(out, "bin", "hello"), []);
    expect(hello.stdout).toBe("Hello, world!\n");
  });

  it("gives git a closure of about 15 store paths with real references", async () => {
    const [git] = await build("git");
    const info = await closure(git!);
    expect(info.size).toBeGreaterThanOrEqual(12);
    expect(info.size).toBeLessThanOrEqual(20);
    const glibc = named(info.keys(), "glibc");
    const zlib = named(info.keys(), "zlib");
    const curl = named(info.keys(), "curl");
    expect(glibc && zlib && curl).toBeTruthy();
    expect(info.get(git!)!.references).toEqual(expect.arrayContaining([zlib, curl]));
    expect(info.get(zlib!)!.references).toContain(glibc);
    expect(info.get(curl!)!.references).toEqual(expect.arrayContaining([glibc, named(info.keys(), "openssl")]));
    // References are real: each one is spelled out somewhere in the referrer's files.
    const zlibLib = readFileSync(join(zlib!, "lib", "libz.so.1.3.1"), "latin1");
    expect(zlibLib).toContain(`${glibc}/lib`);
    expect(Math.max(...[...info.values()].map((i) => i.narSize))).toBeGreaterThan(1 << 20);
  });

  it("builds openssl's two outputs, dev referencing out", async () => {
    const [out, dev] = await build("openssl.out", "openssl.dev");
    expect(out).toMatch(/-openssl-[^/]+$/);
    expect(dev).toMatch(/-openssl-[^/]+-dev$/);
    const info = await closure(dev!);
    expect(info.get(dev!)!.references).toContain(out);
    expect(info.get(out!)!.references).not.toContain(dev);
    expect(readFileSync(join(dev!, "lib", "pkgconfig", "openssl.pc"), "utf8")).toContain(`prefix=${out}`);
  });

  it("fails to build `broken` with exit code 100 and its log", async () => {
    const r = await run("nix-build", ["--no-out-link", pkgsDir, "-A", "broken"]);
    expect(r.code).toBe(100);
    expect(r.stderr).toContain("compiling broken.c");
    expect(r.stderr).toContain("error: this package is broken on purpose");
  });

  it("gives python3Packages.requests a closure holding urllib3 and python3", async () => {
    const [requests] = await build("python3Packages.requests");
    const info = await closure(requests!);
    const urllib3 = named(info.keys(), "python3.11-urllib3");
    const python3 = named(info.keys(), "python3");
    expect(urllib3 && python3).toBeTruthy();
    expect(info.get(requests!)!.references).toContain(urllib3);
    expect(info.get(urllib3!)!.references).toContain(python3);
  });

  it("generates a synthetic set whose packages reference earlier ones, the same for the same seed", async () => {
    const expr = (seed: number) =>
      `{ dir }: let s = import (/. + dir + "/synthetic.nix") { count = 40; seed = ${seed}; }; in builtins.mapAttrs (n: v: v.drvPath) s`;
    const a = (await evalJson(expr(3))) as Record<string, string>;
    expect(Object.keys(a)).toHaveLength(40);
    expect(Object.keys(a)).toContain("pkg0039");
    expect(await evalJson(expr(3))).toEqual(a);
    expect(await evalJson(expr(4))).not.toEqual(a);
    const r = await run("nix-build", ["--no-out-link", join(pkgsDir, "synthetic.nix"), "--arg", "count", "40", "--arg", "seed", "3", "-A", "pkg0039"]);
    expect(r.code, r.stderr).toBe(0);
    const names = [...(await closure(r.stdout.trim())).keys()].map((p) => p.slice(44));
    const indices = names.filter((n) => n.startsWith("pkg")).map((n) => Number(n.slice(3, 7)));
    expect(indices).toContain(39);
    expect(indices.length).toBeGreaterThan(1);
    expect(Math.max(...indices)).toBe(39);
  });

  it("writes bigdata of the asked size that compresses like binaries and text", async () => {
    const expr = '{ dir }: (import (/. + dir) { }).bigdata { name = "bigdata-test"; sizeMB = 3; seed = 5; }';
    const r = await run("nix-build", ["--no-out-link", "--expr", expr, "--argstr", "dir", pkgsDir]);
    expect(r.code, r.stderr).toBe(0);
    const folder = join(r.stdout.trim(), "share", "bigdata-test");
    const files = readdirSync(folder).map((f) => join(folder, f));
    expect(files.reduce((n, f) => n + statSync(f).size, 0)).toBe(3 << 20);
    const data = readFileSync(files[0]!);
    const ratio = data.length / gzipSync(data, { level: 6 }).length;
    expect(ratio).toBeGreaterThan(2);
    expect(ratio).toBeLessThan(4);
  });
});
