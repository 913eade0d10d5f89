/**
 * The whole house with the edge inside workerd: `wrangler dev` runs edge/worker/worker.ts, a real
 * builder (Nix over nix/testpkgs) writes to Swift through the S3 API, and the Worker reads
 * Swift through the S3 API and redirects blob GETs to presigned Swift URLs. skopeo and podman
 * pull through those redirects; a second pull is served from the Worker's tag cache.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { podman, skopeo } from "../support/clients.ts";
import { startS3Builder, swiftWorkerVars, type S3Builder } from "../support/s3-builder.ts";
import { startSwift, type SwiftS3 } from "../support/swift.ts";
import { insecureRequest, startWorker, type RunningWorker } from "../support/workerd.ts";

const TOKEN = "e2e-workerd-token";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

const dest = mkdtempSync(join(tmpdir(), "nixport-e2e-oci-"));
let swift: SwiftS3;
let built: S3Builder;
let worker: RunningWorker;

beforeAll(async () => {
  swift = await startSwift({ bucket: "nixport-e2e" });
  built = await startS3Builder(swift, TOKEN);
  worker = await startWorker({ vars: swiftWorkerVars(swift, [built.server.port], TOKEN) });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await built?.stop();
  await swift?.stop();
  rmSync(dest, { recursive: true, force: true });
});

/** What to print when a step fails: the Worker's log (wrangler prints every request) and the calls. */
const context = (what: string) => `${what}\n--- builder calls: ${JSON.stringify(built.calls)}\n--- wrangler dev ---\n${worker.logs().slice(-6000)}`;

/**
 * The blob GETs the Worker logged since `offset` (wrangler prints one line per request), once
 * every digest wanted shows up: the log line may trail the response by a moment.
 */
async function blobGets(offset: number, wanted: string[]): Promise<{ digest: string; status: number }[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const logs = worker.logs().slice(offset);
    const gets = [...logs.matchAll(/GET \/v2\/[^\s]+\/blobs\/(sha256:[a-f0-9]{64}) (\d{3})/g)].map((m) => ({ digest: m[1]!, status: Number(m[2]) }));
    const seen = new Set(gets.map((g) => g.digest));
    if (wanted.every((d) => seen.has(d)) || Date.now() > deadline) return gets;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface OciLayout {
  manifests: { digest: string }[];
}
interface Manifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number }[];
}

describe("edge in workerd (wrangler dev), builder writing to Swift, blobs redirected to Swift", () => {
  let manifest: Manifest;

  it("skopeo copies hello through 307s to presigned Swift URLs; one build", async () => {
    const before = worker.logs().length;
    const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${worker.host}/hello:latest`, `oci:${dest}:hello`]);
    expect(copy.code, context(copy.stderr)).toBe(0);
    expect(built.calls).toEqual(["hello"]);
    expect(built.nixCalls).toContain("nix-build");

    // The image as skopeo was served it (Docker schema 2, its first choice), now from the tag cache.
    const res = await insecureRequest(`${worker.url}/v2/hello/manifests/latest`, { headers: { accept: DOCKER_MANIFEST } });
    expect([res.status, res.headers["content-type"]], context("manifest")).toEqual([200, DOCKER_MANIFEST]);
    manifest = JSON.parse(res.body.toString("utf8")) as Manifest;
    expect(manifest.layers.length).toBeGreaterThan(0);
    // skopeo rewrote config and manifest as OCI; the layers it stored are the registry's.
    const index = JSON.parse(readFileSync(join(dest, "index.json"), "utf8")) as OciLayout;
    const copied = JSON.parse(readFileSync(join(dest, "blobs/sha256", index.manifests[0]!.digest.slice(7)), "utf8")) as Manifest;
    expect(copied.layers.map((l) => l.digest)).toEqual(manifest.layers.map((l) => l.digest));
    // Every blob skopeo fetched (config and layers) was a GET the Worker answered with a redirect.
    const wanted = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    const gets = await blobGets(before, wanted);
    expect(new Set(gets.map((g) => g.digest)), context("blob GETs")).toEqual(new Set(wanted));
    expect(gets.every((g) => g.status === 307), context("blob GET statuses")).toBe(true);
  });

  it("a blob GET answers 307 to a signed Swift URL holding the blob's bytes", async () => {
    const layer = manifest.layers[0]!;
    const res = await insecureRequest(`${worker.url}/v2/hello/blobs/${layer.digest}`);
    expect(res.status).toBe(307);
    const location = new URL(String(res.headers.location));
    expect(location.origin).toBe(swift.endpoint);
    expect(location.pathname).toBe(`/${swift.bucket}/blobs/sha256/${layer.digest.slice(7)}`);
    expect(location.searchParams.get("X-Amz-Signature")).toMatch(/^[a-f0-9]{64}$/);
    expect(res.headers["docker-content-digest"]).toBe(layer.digest);
    // Swift checks the signature: the URL answers with exactly the blob.
    const blob = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(`sha256:${createHash("sha256").update(blob).digest("hex")}`).toBe(layer.digest);
    expect(blob.byteLength).toBe(layer.size);
  });

  it("a blob HEAD answers 200 from the Worker with size and digest, never a redirect", async () => {
    for (const blob of [manifest.config, ...manifest.layers]) {
      const res = await insecureRequest(`${worker.url}/v2/hello/blobs/${blob.digest}`, { method: "HEAD" });
      expect(res.status).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers["content-length"]).toBe(String(blob.size));
      expect(res.headers["docker-content-digest"]).toBe(blob.digest);
    }
  });

  it("podman pulls the same image afterwards without calling the builder", async () => {
    const run = podman();
    const before = worker.logs().length;
    const pull = await run(["pull", "--tls-verify=false", `${worker.host}/hello:latest`]);
    expect(pull.code, context(pull.stderr)).toBe(0);
    // A podman of its own storage fetched every layer again, each through a redirect.
    const layers = manifest.layers.map((l) => l.digest);
    const gets = await blobGets(before, layers);
    expect(gets.map((g) => g.digest), context("podman's blob GETs")).toEqual(expect.arrayContaining(layers));
    expect(gets.every((g) => g.status === 307), context("podman's blob GET statuses")).toBe(true);
    const images = await run(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(images.stdout).toContain(`${worker.host}/hello:latest`);
    expect(built.calls, context("the second pull reached the builder")).toEqual(["hello"]);
    // The Worker says so too: its tag cache answered.
    const res = await insecureRequest(`${worker.url}/v2/hello/manifests/latest`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect([res.status, res.headers["x-nixport-cache"]]).toEqual([200, "hit"]);
    expect(built.calls).toEqual(["hello"]);
  });

  it("concurrent pulls of a new image share one build call", async () => {
    const before = built.calls.length;
    const answers = await Promise.all([1, 2, 3].map(() => insecureRequest(`${worker.url}/v2/jq/manifests/latest`)));
    expect(answers.map((a) => a.status), context("concurrent manifest GETs")).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.headers["docker-content-digest"])).size).toBe(1);
    expect(built.calls.slice(before)).toEqual(["jq"]);
  });

  it("build failures reach the client through the Worker: unknown names, and a failed build's log tail", async () => {
    const unknown = await skopeo(["inspect", "--tls-verify=false", `docker://${worker.host}/hello/nosuchpkg:latest`]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr, context("unknown package")).toMatch(/manifest unknown: unknown packages: nosuchpkg/);
    // Clients print only the status line of a 500: workerd must keep the reason phrase.
    const broken = await skopeo(["inspect", "--tls-verify=false", `docker://${worker.host}/broken:latest`]);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr, context("failed build")).toMatch(/500 Build failed: \/nix\/store\/[a-z0-9]{32}-broken-1\.0\.drv: .*error: this package is broken on purpose/);
  });
});
