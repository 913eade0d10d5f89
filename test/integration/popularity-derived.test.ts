import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DerivedPopularity } from "../../builder/layers/derived-popularity.ts";
import { PathSource } from "../../builder/sources.ts";
import { testNix, testpkgsSource } from "../support/nix.ts";

// Popularity counted from nix/testpkgs by real Nix: one evaluation per revision, nothing built.
describe("popularity derived from the package set", () => {
  it("counts, for each store-path name, the top-level packages whose closure holds it", async () => {
    const nix = testNix();
    const counts = (await nix.popularity(await testpkgsSource(), "x86_64-linux")) as Record<string, number>;
    // glibc is under nearly every package; git is in its own closure only.
    expect(counts["glibc-2.39-52"]).toBeGreaterThan(10);
    expect(counts["git-2.44.1"]).toBe(1);
    expect(counts["openssl-3.0.14"]).toBeGreaterThan(counts["git-2.44.1"]!);
    // Outputs other than out are named like their store paths (name-OUTPUT).
    expect(counts["openssl-3.0.14-dev"]).toBe(counts["openssl-3.0.14"]);
    expect(Object.values(counts).every((c) => Number.isInteger(c) && c > 0)).toBe(true);
  });

  it("counts once per revision, for concurrent builds too", async () => {
    const nix = testNix();
    const derived = new DerivedPopularity((s, system, signal) => nix.popularity(s, system, signal));
    const source = await testpkgsSource();
    const [a, b] = await Promise.all([derived.get(source, "x86_64-linux"), derived.get(source, "x86_64-linux")]);
    expect(a).toBe(b);
    expect(a!.get("zlib-1.3.1")).toBeGreaterThan(1);
    expect(await derived.get(source, "x86_64-linux")).toBe(a);
    expect(nix.invocations.count).toBe(1);
  });

  it("plans without popularity when the set cannot be counted, and counts again after a while", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nixport-broken-set-"));
    writeFileSync(join(dir, "default.nix"), "{ ... }: throw \"no package set here\"");
    const source = await new PathSource(dir).resolve("latest");
    const logged: string[] = [];
    const counting = (retryFailedMs: number) => {
      const nix = testNix();
      return { nix, derived: new DerivedPopularity((s, system, signal) => nix.popularity(s, system, signal), (msg) => logged.push(msg), retryFailedMs) };
    };
    const held = counting(60_000);
    expect(await held.derived.get(source, "x86_64-linux")).toBeNull();
    expect(await held.derived.get(source, "x86_64-linux")).toBeNull();
    expect(held.nix.invocations.count).toBe(1);
    const retried = counting(0);
    expect(await retried.derived.get(source, "x86_64-linux")).toBeNull();
    await new Promise((r) => setTimeout(r, 10));
    expect(await retried.derived.get(source, "x86_64-linux")).toBeNull();
    expect(retried.nix.invocations.count).toBe(2);
    expect(logged).toEqual(Array(4).fill("counting popularity failed; planning without it"));
  });
});
