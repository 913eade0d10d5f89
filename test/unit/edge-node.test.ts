/**
 * The edge's Node adapter: the filesystem store (same contract as R2 and memory), the file
 * tag cache, and the app served over real HTTP by @hono/node-server.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryBuilder } from "../edge/memory-builder.ts";
import type { BuilderClient } from "../../edge/builder/client.ts";
import { createNodeEdge, listen, type RunningEdge } from "../../edge/node/app.ts";
import { FileTagCache } from "../../edge/node/file-cache.ts";
import { FsBlobReader } from "../../edge/node/fs-store.ts";
import { blobKey } from "../../common/storage/layout.ts";
import { blobReaderContract } from "../edge/blob-reader-contract.ts";
import { storageConfigFromEnv } from "../../common/storage/config.ts";

const dirs: string[] = [];
async function tempRoot(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "nixport-edge-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function putObject(root: string, key: string, bytes: Uint8Array): Promise<void> {
  const path = join(root, key);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}
const putFile = (root: string, digest: string, bytes: Uint8Array) => putObject(root, blobKey(digest), bytes);

blobReaderContract(
  "filesystem",
  async (prefix) => {
    const root = await tempRoot();
    return { reader: new FsBlobReader(root, prefix), put: (d, b) => putObject(root, prefix + blobKey(d), b), putObject: (k, b) => putObject(root, k, b) };
  },
  { prefixes: true },
);

describe("FileTagCache", () => {
  it("keeps entries across instances, drops them after expiry plus the stale window, keeps commits forever", async () => {
    const dir = join(await tempRoot(), "tags");
    let now = 1_000_000;
    const entry = { digest: `sha256:${"1".repeat(64)}`, mediaType: "m", size: 1, expires: now + 10_000 };
    await new FileTagCache(dir, 60, () => now).put("amd64/git:latest", entry);
    await new FileTagCache(dir, 60, () => now).put("amd64/git:abc", { ...entry, expires: null });
    const again = new FileTagCache(dir, 60, () => now);
    expect(await again.get("amd64/git:latest")).toEqual(entry);
    now += 10_000 + 59_000;
    expect(await again.get("amd64/git:latest")).toEqual(entry); // stale but kept
    now += 2_000;
    expect(await again.get("amd64/git:latest")).toBeNull();
    now += 1e12;
    expect((await again.get("amd64/git:abc"))?.expires).toBeNull();
    expect(await again.get("amd64/htop:latest")).toBeNull();
  });
});

describe("the Node edge over HTTP", () => {
  let root: string;
  let memory: MemoryBuilder;
  let server: RunningEdge;

  /** The in-memory builder, writing its blobs where the filesystem store reads them. */
  const diskBuilder = (): BuilderClient => ({
    async build(req, opts) {
      const result = await memory.build(req, opts);
      for (const [d, b] of memory.store.blobs) await putFile(root, d, b);
      return result;
    },
  });

  beforeAll(async () => {
    root = await tempRoot();
    memory = new MemoryBuilder({ packages: ["git", "htop"] });
    server = await listen(createNodeEdge({ storage: storageConfigFromEnv({ NIXPORT_DATA: root }), builder: diskBuilder() }).app);
  });
  afterAll(() => server.close());

  it("builds on HEAD, reports the manifest's length, and serves it on GET", async () => {
    const head = await fetch(`${server.url}/v2/git/manifests/latest`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    const get = await fetch(`${server.url}/v2/git/manifests/latest`);
    const body = new Uint8Array(await get.arrayBuffer());
    expect(head.headers.get("content-length")).toBe(String(body.byteLength));
    expect(get.headers.get("docker-content-digest")).toBe(head.headers.get("docker-content-digest"));
    expect(memory.calls).toHaveLength(1);
  });

  it("streams blobs from disk with Range, and answers HEAD without a body", async () => {
    const manifest = (await (await fetch(`${server.url}/v2/git/manifests/latest`)).json()) as { layers: { digest: string; size: number }[] };
    const layer = manifest.layers[0]!;
    const full = await fetch(`${server.url}/v2/git/blobs/${layer.digest}`);
    const text = await full.text();
    expect(full.headers.get("content-length")).toBe(String(layer.size));
    const part = await fetch(`${server.url}/v2/git/blobs/${layer.digest}`, { headers: { Range: "bytes=1-4" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 1-4/${layer.size}`);
    expect(await part.text()).toBe(text.slice(1, 5));
    const head = await fetch(`${server.url}/v2/git/blobs/${layer.digest}`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), head.headers.get("location")]).toEqual([200, String(layer.size), null]);
    const missing = await fetch(`${server.url}/v2/git/blobs/sha256:${"0".repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("BLOB_UNKNOWN");
  });

  it("remembers tags across restarts in <root>/tags", async () => {
    const restarted = await listen(createNodeEdge({ storage: storageConfigFromEnv({ NIXPORT_DATA: root }), builder: diskBuilder() }).app);
    try {
      const res = await fetch(`${restarted.url}/v2/git/manifests/latest`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-nixport-cache")).toBe("hit");
      expect(memory.calls).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });

  it("refuses push methods and bad names over HTTP too", async () => {
    const put = await fetch(`${server.url}/v2/git/manifests/latest`, { method: "PUT", body: "{}" });
    expect([put.status, put.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    const bad = await fetch(`${server.url}/v2/G!t/manifests/latest`);
    expect(bad.status).toBe(400);
  });
});

describe("access log", () => {
  it("reports one entry per request with status, time and the OCI error code", async () => {
    const entries: { method: string; path: string; status: number; ms: number; error?: string }[] = [];
    const root = await tempRoot();
    const { app } = createNodeEdge({ builder: new MemoryBuilder({ packages: ["hello"] }), storage: storageConfigFromEnv({ NIXPORT_DATA: root }), tagCacheDir: null, accessLog: (e) => entries.push(e) });
    await app.request("/v2/");
    await app.request("/v2/Bad..Name/manifests/latest");
    await app.request("/v2/hello/blobs/sha256:" + "0".repeat(64), { method: "HEAD" });
    expect(entries.map((e) => [e.method, e.path, e.status, e.error])).toEqual([
      ["GET", "/v2/", 200, undefined],
      ["GET", "/v2/Bad..Name/manifests/latest", 400, "NAME_INVALID"],
      ["HEAD", "/v2/hello/blobs/sha256:" + "0".repeat(64), 404, "BLOB_UNKNOWN"],
    ]);
    expect(entries.every((e) => e.ms >= 0)).toBe(true);
  });
});
