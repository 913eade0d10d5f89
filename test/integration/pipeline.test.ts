import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { BuildEvent, ImageResult, ImageSpec } from "../../builder/service/types.ts";
import { startTestBuilder, type TestBuilder } from "../support/builder.ts";

// Determinism and the layer cache, through the whole pipeline with real Nix and a real store.
const started: TestBuilder[] = [];
afterAll(() => Promise.all(started.map((b) => b.stop())));

async function fresh(dataDir?: string): Promise<TestBuilder> {
  const b = await startTestBuilder(dataDir ? { env: { NIXPORT_DATA: dataDir } } : {});
  started.push(b);
  return b;
}

const spec = (packages: string[]): ImageSpec => ({ packages, arch: "amd64", tag: "latest", formats: "both", compression: "gzip" });

async function build(b: TestBuilder, packages: string[]): Promise<{ result: ImageResult; layers: Extract<BuildEvent, { type: "layer" }>[] }> {
  const layers: Extract<BuildEvent, { type: "layer" }>[] = [];
  const result = await b.builder.backend.build(spec(packages), (e) => e.type === "layer" && layers.push(e), new AbortController().signal);
  return { result, layers };
}

const manifestOf = (r: ImageResult) => JSON.parse(Buffer.from(r.manifests[0]!.content).toString()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
const blobPath = (b: TestBuilder, digest: string) => join(b.dataDir, "blobs/sha256", digest.slice(7));

describe("image pipeline", () => {
  it("gives the same bytes and digests from an empty store, a warm one, and after other builds", async () => {
    const a = await fresh();
    const first = await build(a, ["git", "hello"]);
    const warm = await build(a, ["hello", "git"]);
    const other = await fresh();
    await build(other, ["git", "jq"]); // a different cache state before the same image
    const elsewhere = await build(other, ["hello", "git"]);
    expect(warm.result.manifests.map((m) => m.digest)).toEqual(first.result.manifests.map((m) => m.digest));
    expect(elsewhere.result.manifests.map((m) => m.digest)).toEqual(first.result.manifests.map((m) => m.digest));
    for (const l of manifestOf(first.result).layers) {
      expect(readFileSync(blobPath(other, l.digest)).equals(readFileSync(blobPath(a, l.digest)))).toBe(true);
    }
  });

  it("stores blobs whose digests, sizes and diff_ids check out", async () => {
    const b = await fresh();
    const { result } = await build(b, ["python3packages.requests"]);
    const m = manifestOf(result);
    const config = JSON.parse(readFileSync(blobPath(b, m.config.digest), "utf8")) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toHaveLength(m.layers.length);
    m.layers.forEach((l, i) => {
      const bytes = readFileSync(blobPath(b, l.digest));
      expect(bytes.length).toBe(l.size);
      expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(l.digest);
      expect(`sha256:${createHash("sha256").update(gunzipSync(bytes)).digest("hex")}`).toBe(config.rootfs.diff_ids[i]);
    });
    for (const man of result.manifests) {
      expect(`sha256:${createHash("sha256").update(readFileSync(blobPath(b, man.digest))).digest("hex")}`).toBe(man.digest);
    }
  });

  it("writes only the new layers for an image sharing all but one package, and none after a restart", async () => {
    const b = await fresh();
    const one = await build(b, ["git", "hello"]);
    const oneDigests = new Set(manifestOf(one.result).layers.map((l) => l.digest));
    const two = await build(b, ["git", "hello", "jq"]);
    const storeLayers = two.layers.slice(0, -1); // the last is the symlink forest, always written
    const written = storeLayers.filter((l) => !l.reused);
    const reused = storeLayers.filter((l) => l.reused);
    expect(reused.length).toBeGreaterThan(0);
    for (const l of reused) expect(oneDigests.has(l.digest)).toBe(true);
    for (const l of written) expect(oneDigests.has(l.digest)).toBe(false);
    // A new builder process on the same store reuses every store-path layer.
    const again = await fresh(b.dataDir);
    const three = await build(again, ["git", "hello", "jq"]);
    expect(three.layers.slice(0, -1).every((l) => l.reused)).toBe(true);
    expect(three.result.manifests[0]!.digest).toBe(two.result.manifests[0]!.digest);
  });
});
