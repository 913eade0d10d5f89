/**
 * Fuzzing the edge over a real socket: the Node edge (createNodeEdge + listen, filesystem
 * store and file tag cache) with an in-memory builder that records every call, and 1,500
 * generated hostile requests sent as raw bytes (test/support/fuzz-requests.ts, seeded).
 * Every answer must be valid HTTP, never a 5xx, and an error must be an OCI error body; the
 * builder must never be asked to build an invalid name.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MemoryBuilder } from "../edge/memory-builder.ts";
import { parseImageRequest } from "../../common/names.ts";
import { createNodeEdge, listen, type RunningEdge } from "../../edge/node/app.ts";
import { MemoryBlobStore } from "../edge/memory-blobs.ts";
import { blobKey } from "../../common/storage/layout.ts";
import { type FuzzContext, type FuzzRequest, generateRequests } from "../support/fuzz-requests.ts";
import { exchange, judgeAnswer, type RawResponse } from "../support/raw-http.ts";
import { storageConfigFromEnv } from "../../common/storage/config.ts";

const SEED = 0x6e697870; // "nixp"
const COUNT = 1500;
const PACKAGES = ["hello", "git", "htop", "bashinteractive", "coreutils", "moreutils", "nano", "python3packages.requests", "a-b", "a__b", "manifests", "blobs"];

// The grammar restated independently of edge/names.ts, to judge what reached the builder.
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** The builder's blobs land in memory and in the folder the Node edge reads, as a real builder's would. */
class MirroredBlobStore extends MemoryBlobStore {
  constructor(private readonly root: string) {
    super();
  }
  override put(digest: string, bytes: Uint8Array): void {
    super.put(digest, bytes);
    const file = join(this.root, blobKey(digest));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
}

const get = (path: string, headers = "") => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`);

/** Runs fn over items, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

describe("edge fuzz over a socket", () => {
  let root: string;
  let builder: MemoryBuilder;
  let server: RunningEdge;
  const logged: unknown[][] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "nixport-fuzz-"));
    builder = new MemoryBuilder({ packages: PACKAGES, store: new MirroredBlobStore(root) });
    const edge = createNodeEdge({ builder, storage: storageConfigFromEnv({ NIXPORT_DATA: root }), config: { source: "fuzz packages" } });
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args));
    server = await listen(edge.app, { port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    vi.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  /** A built image's digests, so generated blob requests (and their Ranges) reach real content. */
  async function context(): Promise<FuzzContext> {
    const digests = new Set<string>();
    for (const accept of ["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"]) {
      const res = await exchange(server.port, get("/v2/hello/manifests/latest", `Accept: ${accept}\r\n`), { head: false });
      expect(res.status).toBe(200);
      const manifest = JSON.parse(res.body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
      digests.add(res.headers.get("docker-content-digest")![0]!);
      digests.add(manifest.config.digest);
      for (const l of manifest.layers) digests.add(l.digest);
    }
    return { knownDigests: [...digests].sort(), validNames: ["hello", "git", "shell", "shell/git/htop", "arm64/hello", "python3packages.requests", "nosuchpackage"] };
  }

  // What Node's HTTP layer answers on its own, before the app: each in the OCI error format.
  const OUTSIDE_THE_APP: [string, string, number][] = [
    ["unparsable request line", "GET /v2/ HTTP/9.9\r\nHost: x\r\n\r\n", 400],
    ["unknown method token", "G@T /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["raw NUL in the path", "GET /v2/\0/manifests/latest HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["headers over 16 KiB", `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
    ["HTTP/1.1 without Host", "GET /v2/ HTTP/1.1\r\nConnection: close\r\n\r\n", 400],
    ["Host the URL parser refuses", "GET /v2/ HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n", 400],
    ["backslash in the path", "GET /v2/a\\b/manifests/latest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400],
    ["CONNECT", "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", 405],
    ["Expect other than 100-continue", "GET /v2/ HTTP/1.1\r\nHost: x\r\nExpect: later\r\nConnection: close\r\n\r\n", 417],
  ];

  it.each(OUTSIDE_THE_APP)("%s: an OCI error, not Node's bare answer", async (_what, raw, status) => {
    const res = await exchange(server.port, Buffer.from(raw, "latin1"), { head: false });
    expect(res.status).toBe(status);
    expect(judgeAnswer(res, false)).toBeNull();
    expect(res.headers.get("docker-distribution-api-version")).toEqual(["registry/2.0"]);
    if (status === 405) expect(res.headers.get("allow")).toEqual(["GET, HEAD"]);
  });

  it("the generator is deterministic", async () => {
    const ctx = { knownDigests: [`sha256:${"1".repeat(64)}`], validNames: ["hello"] };
    const a = generateRequests(SEED, 200, ctx);
    const b = generateRequests(SEED, 200, ctx);
    expect(a.map((r) => r.bytes.toString("base64"))).toEqual(b.map((r) => r.bytes.toString("base64")));
    expect(generateRequests(SEED + 1, 200, ctx).map((r) => r.bytes.toString("base64"))).not.toEqual(a.map((r) => r.bytes.toString("base64")));
  });

  it(`${COUNT} hostile requests: valid HTTP, no 5xx, OCI errors, no invalid name built`, async () => {
    const requests = generateRequests(SEED, COUNT, await context());
    const statuses = new Map<number, number>();
    const kinds = new Map<string, number>();
    const problems: string[] = [];
    await pool(requests, 8, async (req: FuzzRequest) => {
      const head = req.method === "HEAD";
      let res: RawResponse;
      try {
        res = await exchange(server.port, req.bytes, { head });
      } catch (err) {
        problems.push(`${req.kind}: ${(err as Error).message} ← ${JSON.stringify(req.bytes.subarray(0, 160).toString("latin1"))}`);
        return;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      kinds.set(req.kind, (kinds.get(req.kind) ?? 0) + 1);
      const problem = judgeAnswer(res, head) ?? (res.headers.get("docker-distribution-api-version")?.[0] === "registry/2.0" ? null : "no Docker-Distribution-API-Version header");
      if (problem) problems.push(`${req.kind}: ${problem} ← ${JSON.stringify(req.bytes.subarray(0, 160).toString("latin1"))}`);
    });

    const counts = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");
    console.log(`edge fuzz: ${requests.length} requests (${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")}); statuses ${counts}; builder calls ${builder.calls.length}; problems ${problems.length}`);

    expect(problems.slice(0, 20)).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(1000);
    // The generator reached every kind of answer worth checking, not only refusals.
    for (const status of [200, 206, 400, 404, 405, 416]) expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    expect(statuses.get(431) ?? 0, "huge headers").toBeGreaterThan(0);

    expect(builder.calls.length).toBeGreaterThan(0);
    for (const call of builder.calls) {
      expect(call.packages.every((p) => COMPONENT.test(p)) && TAG.test(call.tag), JSON.stringify(call)).toBe(true);
      expect(parseImageRequest(call.packages.join("/"), call.tag).ok, JSON.stringify(call)).toBe(true);
    }
    expect(logged.filter((args) => String(args[0]).includes("unexpected"))).toEqual([]);
  });
});
