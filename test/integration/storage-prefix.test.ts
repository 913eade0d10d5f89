/**
 * NIXPORT_S3_PREFIX end to end: the all-in-one server (`npm start`'s entry) writes the layout
 * under the prefix and its edge reads and redirects there. skopeo pulls through the edge,
 * against real S3 (Swift, following 307s to presigned URLs) and against the filesystem store;
 * nothing lands outside the prefix.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skopeo } from "../support/clients.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";
import { startSwift, type SwiftS3 } from "../support/swift.ts";

const PREFIX = "team/cache";
const DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json";
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Manifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number }[];
}

/** skopeo copies `name` from the registry into an OCI layout; the manifest as the edge serves it. */
async function pull(r: RunningRegistry, name: string): Promise<Manifest> {
  const dest = mkdtempSync(join(tmpdir(), "nixport-prefix-oci-"));
  cleanups.push(() => rmSync(dest, { recursive: true, force: true }));
  const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${r.host}/${name}:latest`, `oci:${dest}:${name}`]);
  expect(copy.code, `${copy.stderr}\n${r.logs().slice(-3000)}`).toBe(0);
  const res = await fetch(`${r.url}/v2/${name}/manifests/latest`, { headers: { accept: DOCKER_V2 } });
  expect(res.status).toBe(200);
  return (await res.json()) as Manifest;
}

const sha256 = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("a prefixed S3 store (Swift) behind the all-in-one server", () => {
  let swift: SwiftS3;
  let r: RunningRegistry;
  beforeAll(async () => {
    swift = await startSwift({ bucket: "nixport-prefix" });
    cleanups.push(() => swift.stop());
    r = await startRegistry({
      NIXPORT_S3_BUCKET: swift.bucket,
      NIXPORT_S3_ENDPOINT: swift.endpoint,
      NIXPORT_S3_REGION: swift.region,
      NIXPORT_S3_PREFIX: PREFIX,
      AWS_ACCESS_KEY_ID: swift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
    });
    cleanups.push(() => rmSync(r.dataDir, { recursive: true, force: true }));
    cleanups.push(() => r.stop());
  }, 120_000);

  it("skopeo pulls through presigned redirects under the prefix; every object is under it", async () => {
    const manifest = await pull(r, "hello");
    const layer = manifest.layers[0]!;
    const res = await fetch(`${r.url}/v2/hello/blobs/${layer.digest}`, { redirect: "manual" });
    expect(res.status).toBe(307);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(`${swift.endpoint}/${swift.bucket}/${PREFIX}/blobs/sha256/${layer.digest.slice(7)}`);
    const blob = new Uint8Array(await (await fetch(location)).arrayBuffer());
    expect(sha256(blob)).toBe(layer.digest);
    const head = await fetch(`${r.url}/v2/hello/blobs/${manifest.config.digest}`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, String(manifest.config.size)]);

    const admin = new S3Client({
      endpoint: swift.endpoint,
      region: swift.region,
      forcePathStyle: true,
      credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    });
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: swift.bucket }));
    admin.destroy();
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys).toContain(`${PREFIX}/blobs/sha256/${layer.digest.slice(7)}`);
    expect(keys.some((k) => k.startsWith(`${PREFIX}/layers/`))).toBe(true);
    expect(keys.filter((k) => !k.startsWith(`${PREFIX}/`))).toEqual([]);
  });
});

describe("a prefixed filesystem store behind the all-in-one server", () => {
  it("skopeo pulls, blobs streamed from <data>/<prefix>/blobs; nothing at <data>/blobs", async () => {
    const r = await startRegistry({ NIXPORT_S3_PREFIX: PREFIX });
    cleanups.push(() => r.stop());
    cleanups.push(() => rmSync(r.dataDir, { recursive: true, force: true }));
    const manifest = await pull(r, "hello");
    const blobs = readdirSync(join(r.dataDir, PREFIX, "blobs/sha256"));
    for (const l of [manifest.config, ...manifest.layers]) expect(blobs).toContain(l.digest.slice(7));
    expect(existsSync(join(r.dataDir, "blobs"))).toBe(false);
    const layer = manifest.layers[0]!;
    const res = await fetch(`${r.url}/v2/hello/blobs/${layer.digest}`);
    expect(res.status).toBe(200);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(layer.digest);
  });
});
