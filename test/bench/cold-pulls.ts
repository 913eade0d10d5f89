/**
 * Benchmark suite `load`: many concurrent cold pulls of images whose closures overlap, into
 * one empty store, on the filesystem and on S3 (OpenStack Swift): how many pulls failed (must
 * be 0), how often the most-written layer was uploaded (must be once), and the total time
 * beside the same images pulled one after another into another empty store. Each round gets
 * a package set of its own seed, so Nix really builds every package and no store holds a layer.
 * The registry is the all-in-one composition, in this process so the store can count uploads;
 * pulls are plain HTTP clients: manifest, then every blob (following redirects).
 * Tiny mode: 4 images, 8 pulls. Run alone: npm run bench -- load
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestBuilder, type TestBuilder } from "../support/builder.ts";
import { testpkgsWith } from "../support/nix.ts";
import { runSeed } from "../support/fixture-pkgs.ts";
import { startSwift, type SwiftS3 } from "../support/swift.ts";
import { createStore } from "../../builder/store/index.ts";
import type { BlobStore } from "../../builder/store/types.ts";
import { storageConfigFromEnv } from "../../common/storage/config.ts";
import { connectBuilder } from "../../edge/builder/connect.ts";
import { createNodeEdge, listen } from "../../edge/node/app.ts";
import { compared, figure } from "./report.ts";
import type { Figure, SuiteContext } from "./report.ts";
import { benchDir } from "./scratch.ts";

// pullSeconds bounds each pull, so one that hangs counts as failed instead of stalling the run.
const FULL = { parts: 8, partMB: 8, images: 20, pulls: 50, pullSeconds: 1800 };
const TINY = { parts: 4, partMB: 1, images: 4, pulls: 8, pullSeconds: 120 };
type Sizes = typeof FULL;
const ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/** A package set of `parts` seeded closures; image i is a distinct pair of them (overlapping). */
function packageSet(sizes: Sizes, parent: string): { dir: string; images: string[] } {
  const dir = mkdtempSync(join(parent, "pkgs-"));
  const seed = runSeed();
  const parts = Array.from({ length: sizes.parts }, (_, i) => `  part${i} = t.lib.bigClosure { name = "part${i}"; sizeMB = ${sizes.partMB}; parts = 2; seed = "${seed}-${i}"; };`);
  testpkgsWith(dir, parts.join("\n"));
  const pairs: string[] = [];
  for (let a = 0; a < sizes.parts; a++) for (let b = a + 1; b < sizes.parts; b++) pairs.push(`part${a}/part${b}`);
  if (pairs.length < sizes.images) throw new Error(`${sizes.parts} parts make only ${pairs.length} images`);
  return { dir, images: pairs.slice(0, sizes.images) };
}

/** The store, counting uploads of each blob (a layer written twice is uploaded twice). */
function counting(store: BlobStore): { store: BlobStore; uploads: Map<string, number> } {
  const uploads = new Map<string, number>();
  const putBlobFile: BlobStore["putBlobFile"] = (digest, file, mediaType) => {
    uploads.set(digest, (uploads.get(digest) ?? 0) + 1);
    return store.putBlobFile(digest, file, mediaType);
  };
  const counted = new Proxy(store, {
    get(target, key) {
      if (key === "putBlobFile") return putBlobFile;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: counted, uploads };
}

interface Registry {
  url: string;
  uploads: Map<string, number>;
  stop(): Promise<void>;
}

/** Builder + edge over one empty store (filesystem under `work`, or a fresh prefix in Swift). */
async function registry(pkgs: string, work: string, swift: SwiftS3 | undefined): Promise<Registry> {
  const dataDir = mkdtempSync(join(work, "data-"));
  const s3Env: NodeJS.ProcessEnv = swift
    ? { NIXPORT_S3_BUCKET: swift.bucket, NIXPORT_S3_ENDPOINT: swift.endpoint, NIXPORT_S3_REGION: swift.region, NIXPORT_S3_PREFIX: `run-${runSeed()}`, AWS_ACCESS_KEY_ID: swift.accessKeyId, AWS_SECRET_ACCESS_KEY: swift.secretAccessKey }
    : {};
  const env = { NIXPORT_PKGS_PATH: pkgs, NIXPORT_DATA: dataDir, NIXPORT_MAX_QUEUED: "1000", ...s3Env };
  const storage = storageConfigFromEnv(env);
  const { store, uploads } = counting(createStore(storage));
  const builder: TestBuilder = await startTestBuilder({ env, parts: { store } });
  const edge = createNodeEdge({ builder: connectBuilder({ baseUrl: `http://${builder.address}` }), storage, config: { pullWaitSeconds: 1800 } });
  const http = await listen(edge.app, { port: 0 });
  return {
    url: http.url,
    uploads,
    async stop() {
      await http.close();
      await builder.stop();
    },
  };
}

/** One pull as a registry client makes it: the manifest, then every blob; false when anything failed. */
async function pull(url: string, image: string, seconds: number): Promise<boolean> {
  const signal = AbortSignal.timeout(seconds * 1000);
  try {
    const res = await fetch(`${url}/v2/${image}/manifests/latest`, { headers: { Accept: ACCEPT }, signal });
    if (res.status !== 200) return false;
    const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    for (const blob of [manifest.config, ...manifest.layers]) {
      const b = await fetch(`${url}/v2/${image}/blobs/${blob.digest}`, { signal });
      if (b.status !== 200) return false;
      await b.arrayBuffer();
    }
    return true;
  } catch {
    return false;
  }
}

interface Round {
  seconds: number;
  errors: number;
  maxWrites: number;
  layers: number;
}

async function round(ctx: SuiteContext, sizes: Sizes, work: string, swift: SwiftS3 | undefined, concurrent: boolean): Promise<Round> {
  const set = packageSet(sizes, work);
  const r = await registry(set.dir, work, swift);
  try {
    const started = performance.now();
    let ok: boolean[];
    if (concurrent) ok = await Promise.all(Array.from({ length: sizes.pulls }, (_, i) => pull(r.url, set.images[i % set.images.length]!, sizes.pullSeconds)));
    else {
      ok = [];
      for (const image of set.images) ok.push(await pull(r.url, image, sizes.pullSeconds));
    }
    const seconds = (performance.now() - started) / 1000;
    const writes = [...r.uploads.values()];
    const result = { seconds, errors: ok.filter((x) => !x).length, maxWrites: Math.max(0, ...writes), layers: writes.length };
    ctx.note(`${swift ? "s3" : "fs"} ${concurrent ? `${sizes.pulls} concurrent` : `${set.images.length} sequential`}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await r.stop();
  }
}

async function figures(ctx: SuiteContext, sizes: Sizes, work: string, store: "fs" | "s3", swift?: SwiftS3): Promise<Figure[]> {
  const together = await round(ctx, sizes, work, swift, true);
  const alone = await round(ctx, sizes, work, swift, false);
  const what = `${sizes.pulls} concurrent cold pulls of ${sizes.images} overlapping images (${store})`;
  return [
    figure("load", `load.${store}.errors`, together.errors, "pulls", { target: { of: "value", max: 0 }, label: `${what}: failed pulls` }),
    figure("load", `load.${store}.max_writes_per_layer`, together.maxWrites, "writes", { target: { of: "value", max: 1 }, label: `${what}: most uploads of one blob` }),
    figure("load", `load.${store}.blobs_written`, together.layers, "blobs"),
    compared("load", `load.${store}.total_s`, together.seconds, "s", alone.seconds, { label: `${what}: total time`, reference: "the same images pulled one after another" }),
  ];
}

export async function run(ctx: SuiteContext): Promise<Figure[]> {
  const sizes = ctx.tiny ? TINY : FULL;
  const work = benchDir("load");
  const out = await figures(ctx, sizes, work, "fs");
  const swift = await startSwift({ bucket: "nixport-bench-load" });
  try {
    out.push(...(await figures(ctx, sizes, work, "s3", swift)));
  } finally {
    await swift.stop();
  }
  return out;
}
