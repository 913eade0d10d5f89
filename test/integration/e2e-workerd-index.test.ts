/**
 * The Worker with two builders and PLATFORMS=linux/amd64,linux/arm64: one builder's Nix
 * builds x86_64-linux alone (NIX_CONFIG "extra-platforms ="), the other aarch64-linux too
 * (qemu-user, nix/setup-host.sh --arm64). Each reports its systems (GetSystems); the Worker
 * sends every arm64 build to the one that has aarch64-linux, and serves the index by digest.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Builder, swiftWorkerVars, type S3Builder } from "../support/s3-builder.ts";
import { startSwift, type SwiftS3 } from "../support/swift.ts";
import { insecureRequest, startWorker, type RunningWorker } from "../support/workerd.ts";

const TOKEN = "e2e-workerd-index-token";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
let swift: SwiftS3;
let amd64Only: S3Builder;
let both: S3Builder;
let worker: RunningWorker;

beforeAll(async () => {
  swift = await startSwift({ bucket: "nixport-e2e-index" });
  [amd64Only, both] = await Promise.all([startS3Builder(swift, TOKEN, { NIX_CONFIG: "extra-platforms =" }), startS3Builder(swift, TOKEN)]);
  worker = await startWorker({ vars: { ...swiftWorkerVars(swift, [amd64Only.server.port, both.server.port], TOKEN), PLATFORMS: "linux/amd64,linux/arm64" } });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.all([amd64Only?.stop(), both?.stop()]);
  await swift?.stop();
});

describe("the Worker routes each platform to a builder that builds it", () => {
  it("builds arm64 images only on the builder with aarch64-linux, and serves the index by digest", async () => {
    // Several images, so that rendezvous alone would send some arm64 ones to either builder.
    for (const name of ["hello", "zlib", "expat"]) {
      const res = await insecureRequest(`${worker.url}/v2/${name}/manifests/latest`, { headers: { accept: OCI_INDEX }, timeoutMs: 600_000 });
      expect(res.status, res.body.toString()).toBe(200);
      const again = await insecureRequest(`${worker.url}/v2/${name}/manifests/${res.headers["docker-content-digest"]}`, { headers: { accept: OCI_INDEX }, timeoutMs: 600_000 });
      expect(again.body).toEqual(res.body);
      // Stored by a builder in the shared bucket: every isolate serves it.
      expect(await both.store.statBlob(String(res.headers["docker-content-digest"]))).toEqual({ size: res.body.byteLength });
    }
    expect(await both.builder.backend.systems!()).toContain("aarch64-linux");
    expect(await amd64Only.builder.backend.systems!()).not.toContain("aarch64-linux");
    expect(amd64Only.archCalls.filter((a) => a === "arm64")).toEqual([]);
    expect(both.archCalls.filter((a) => a === "arm64")).toHaveLength(3);
  }, 900_000);
});
