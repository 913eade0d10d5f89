import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ImageResult, ImageSpec } from "../../builder/service/types.ts";
import { testpkgsWith } from "../support/nix.ts";
import { startTestBuilder, type TestBuilder } from "../support/builder.ts";

// The cost controls of a public builder, with real Nix over nix/testpkgs.
const started: TestBuilder[] = [];
afterAll(() => Promise.all(started.map((b) => b.stop())));

async function builder(env: NodeJS.ProcessEnv): Promise<TestBuilder> {
  const b = await startTestBuilder({ env });
  started.push(b);
  return b;
}

const spec = (packages: string[]): ImageSpec => ({ packages, arch: "amd64", tag: "latest", formats: "oci", compression: "gzip" });
const build = (b: TestBuilder, packages: string[]): Promise<ImageResult> => b.builder.backend.build(spec(packages), () => {}, new AbortController().signal);
const blobs = (b: TestBuilder) => readdirSync(join(b.dataDir, "blobs/sha256"), { withFileTypes: true }).length;
const noBlobs = (b: TestBuilder) => {
  try {
    return blobs(b) === 0;
  } catch {
    return true; // never created
  }
};

describe("cost controls", () => {
  it("NIXPORT_MAX_CLOSURE_BYTES: an image over it fails before any layer is written, naming its size and the limit", async () => {
    const b = await builder({ NIXPORT_MAX_CLOSURE_BYTES: "1000" });
    await expect(build(b, ["hello"])).rejects.toMatchObject({ kind: "denied", message: expect.stringMatching(/image too large: its closure is .* \(\d+ bytes\), over this registry's limit of .* \(1000 bytes\)/) });
    expect(noBlobs(b)).toBe(true);
    expect(readdirSync(join(b.dataDir, "work"))).toEqual([]);
  });

  it("package deny and allow lists refuse before any Nix call; the rest builds", async () => {
    const b = await builder({ NIXPORT_PACKAGES_DENY: "jq", NIXPORT_PACKAGES_ALLOW: "hello,git,jq" });
    await expect(build(b, ["hello", "jq"])).rejects.toMatchObject({ kind: "denied", message: expect.stringContaining("does not build jq") });
    await expect(build(b, ["hello", "htop"])).rejects.toMatchObject({ kind: "denied", message: expect.stringContaining("does not build htop") });
    expect(b.nixCalls).toEqual([]);
    expect((await build(b, ["hello"])).manifests).toHaveLength(1);
  });

  it("NIXPORT_SUBSTITUTE_ONLY=1: what the store or a cache has is served; what would compile fails naming the derivation", async () => {
    const pkgs = mkdtempSync(join(tmpdir(), "nixport-subst-"));
  testpkgsWith(
    pkgs,
    `  # New for every run (the nonce): never in the store, so it would have to be built.
  fresh = t.lib.mkPkg { pname = "fresh"; version = "1"; description = "new"; script = "true # ${randomUUID()}"; };`,
  );
    const normal = await builder({ NIXPORT_PKGS_PATH: pkgs });
    await build(normal, ["hello"]); // now in the local store, as if substituted
    const b = await builder({ NIXPORT_PKGS_PATH: pkgs, NIXPORT_SUBSTITUTE_ONLY: "1" });
    expect((await build(b, ["hello"])).manifests).toHaveLength(1);
    const refused = build(b, ["fresh"]);
    await expect(refused).rejects.toMatchObject({
      kind: "denied",
      message: expect.stringMatching(/^substitute-only builder: \/nix\/store\/[a-z0-9]{32}-fresh-1\.drv is in no binary cache/),
      details: { derivation: expect.stringMatching(/-fresh-1\.drv$/) },
    });
  });
});
