/**
 * Suite `serve`: how fast the Node edge answers pulls of an image already built, beside two
 * references on the same machine in the same run. A real image (hello from nix/testpkgs) is
 * built once through the all-in-one server; then, with 50 connections on loopback and the
 * load generator in a process of its own:
 *   - ours: GET of the manifest by tag (tag cache warm), and HEAD of a layer blob;
 *   - CNCF distribution 2.8 (`docker-registry`) serving the same image, copied in with skopeo;
 *   - a bare node:http server answering the same bytes and headers from memory: the ceiling
 *     for any Node server here.
 * The machine has two cores (and may be shared), so ours and the ceiling are measured in
 * alternating rounds and the median round of each is kept. Tiny mode: one short round.
 */
import { rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { copyImage, startDistribution } from "../support/distribution.ts";
import { startRegistry } from "../support/registry.ts";
import { hasWrk, load, type LoadOptions, type LoadResult } from "./load.ts";
import { compared, figure, type Figure, type SuiteRun } from "./report.ts";
import { fuzzTally } from "./serve-fuzz.ts";

const SUITE = "serve";
const CONNECTIONS = 50;
const FULL = { seconds: Number(process.env.NIXPORT_BENCH_SERVE_SECONDS ?? 4), rounds: 3, warmUp: 2 };
const TINY = { seconds: 1, rounds: 1, warmUp: 1 };
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
/** All three targets are asked for the same format, so they send the same bytes. */
const HEADERS = { Accept: DOCKER_MANIFEST };
const IMAGE = "hello:latest";

interface Pulled {
  bytes: Buffer;
  /** The answer's headers, to be repeated by the ceiling server. */
  headers: Record<string, string>;
  layer: string;
}

async function pull(base: string): Promise<Pulled> {
  const res = await fetch(`${base}/v2/hello/manifests/latest`, { headers: HEADERS });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${base}: manifest answered ${res.status}: ${bytes.toString().slice(0, 300)}`);
  const manifest = JSON.parse(bytes.toString()) as { layers: { digest: string }[] };
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    if (key !== "date" && key !== "connection" && key !== "keep-alive") headers[key] = value;
  });
  return { bytes, headers, layer: manifest.layers[0]!.digest };
}

/** The ceiling: node:http answering the manifest bytes from memory, nothing else. */
function startCeiling(image: Pulled): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, image.headers);
    res.end(image.bytes);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

/** The run with the median throughput (the upper one of an even count). */
const median = (runs: LoadResult[]): LoadResult => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
const rps = (r: LoadResult) => Math.round(r.rps);

export const run: SuiteRun = async (ctx) => {
  const stops: (() => Promise<void>)[] = [];
  const sizes = ctx.tiny ? TINY : FULL;
  const measure = async (label: string, o: Omit<LoadOptions, "connections" | "seconds">, seconds = sizes.seconds): Promise<LoadResult> => {
    const r = await load({ connections: CONNECTIONS, seconds, ...o });
    ctx.note(`${label}: ${rps(r)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, ${r.errors} errors (${r.tool}, ${seconds} s)`);
    return r;
  };
  try {
    if (!hasWrk()) ctx.note("wrk is not installed: GETs are measured with autocannon, itself a Node process (lower ceiling)");
    ctx.note("starting nixport (all-in-one) over nix/testpkgs and building hello once");
    const ours = await startRegistry();
    stops.push(async () => {
      await ours.stop();
      rmSync(ours.dataDir, { recursive: true, force: true });
    });
    const image = await pull(ours.url);
    const again = await pull(ours.url);
    if (again.headers["x-nixport-cache"] !== "hit") throw new Error(`second pull was not a tag-cache hit: ${again.headers["x-nixport-cache"]}`);
    const ceiling = await startCeiling(image);
    stops.push(ceiling.close);
    ctx.note("starting docker-registry (CNCF distribution 2.8) and copying the image into it with skopeo");
    const distribution = await startDistribution();
    stops.push(distribution.stop);
    await copyImage(`${ours.host}/${IMAGE}`, `${distribution.host}/${IMAGE}`);
    const theirs = await pull(distribution.url);
    if (!theirs.bytes.equals(image.bytes)) ctx.note("distribution serves different manifest bytes (format converted by skopeo?)");

    const path = "/v2/hello/manifests/latest";
    const oursRuns: LoadResult[] = [];
    const ceilingRuns: LoadResult[] = [];
    // Warm-up: JIT, connection pools, page cache.
    oursRuns.push(await measure("ours warm-up", { url: ours.url + path, headers: HEADERS }, sizes.warmUp));
    await measure("node:http ceiling warm-up", { url: ceiling.url + path, headers: HEADERS }, 1);
    for (let round = 1; round <= sizes.rounds; round++) {
      oursRuns.push(await measure(`ours manifest GET, round ${round}`, { url: ours.url + path, headers: HEADERS }));
      ceilingRuns.push(await measure(`node:http ceiling, round ${round}`, { url: ceiling.url + path, headers: HEADERS }));
    }
    const distributionRun = await measure("distribution manifest GET", { url: distribution.url + path, headers: HEADERS });
    const blobUrl = `${ours.url}/v2/hello/blobs/${image.layer}`;
    await measure("ours blob HEAD warm-up", { url: blobUrl, method: "HEAD" }, 1);
    const blobHead = await measure("ours blob HEAD", { url: blobUrl, method: "HEAD" });
    const knownDigests = [image.layer, image.headers["docker-content-digest"] ?? image.layer];
    const fuzz = await fuzzTally(Number(new URL(distribution.url).port), { knownDigests, validNames: ["hello"] }, ctx.tiny ? 100 : undefined);
    ctx.note(`distribution under ${fuzz.requests} edge-fuzz requests: ${fuzz.bad} bad answers (${fuzz.serverErrors} of them 5xx)`);

    const manifest = median(oursRuns.slice(1));
    const errors = [...oursRuns, blobHead].reduce((sum, r) => sum + r.errors, 0);
    const figures: Figure[] = [
      compared(SUITE, "serve.manifest_rps_vs_distribution", rps(manifest), "req/s", rps(distributionRun), {
        target: { of: "ratio", min: 10 },
        label: "cached manifest GETs, 50 connections",
        reference: "CNCF distribution 2.8",
      }),
      compared(SUITE, "serve.manifest_rps_vs_node_floor", rps(manifest), "req/s", rps(median(ceilingRuns)), {
        target: { of: "ratio", min: 0.5 },
        label: "the same",
        reference: "bare `node:http` from memory",
      }),
      figure(SUITE, "serve.blob_head_rps", rps(blobHead), "req/s"),
      figure(SUITE, "serve.p99_ms", Number(manifest.p99Ms.toFixed(2)), "ms"),
      figure(SUITE, "serve.errors", errors, "count", { target: { of: "value", max: 0 }, label: "errors under load" }),
      // The edge's own share is held at 0 by test/integration/edge-fuzz.test.ts.
      figure(SUITE, "serve.fuzz_bad_answers_distribution", Number(((100 * fuzz.bad) / fuzz.requests).toFixed(1)), "%"),
    ];
    return figures;
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => ctx.note(`stopping: ${String(err)}`));
  }
};
