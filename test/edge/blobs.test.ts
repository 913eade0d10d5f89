/**
 * Blob redirects inside workerd: GET → 307 to a presigned or public URL; HEAD answered by
 * the edge from storage metadata, never redirected.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { publicBlobURL } from "../../edge/storage/public-url.ts";
import { StorageError } from "../../common/storage/errors.ts";
import { staticCredentials } from "../../common/storage/s3.ts";
import { blobPresigner } from "../../edge/storage/s3.ts";
import { withBlobURL } from "../../edge/storage/types.ts";
import { makeEdge, ociError, ZERO_DIGEST, type Edge } from "./harness.ts";

let clock = Date.UTC(2026, 2, 1, 12, 0, 30);

function presigningEdge(): Edge {
  return makeEdge({
    blobs: (store) =>
      withBlobURL(
        store,
        blobPresigner({
          location: { endpoint: "https://account.r2.cloudflarestorage.com", bucket: "nixport", region: "auto" },
          credentials: staticCredentials({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }),
          windowSeconds: 300,
          marginSeconds: 600,
          now: () => clock,
        }),
      ),
  });
}

async function layerOf(edge: Edge): Promise<{ digest: string; size: number }> {
  const res = await edge.fetch("/v2/git/manifests/latest");
  return ((await res.json()) as { layers: { digest: string; size: number }[] }).layers[0]!;
}

describe("blob GET with a presigning store", () => {
  let edge: Edge;
  let layer: { digest: string; size: number };
  beforeAll(async () => {
    edge = presigningEdge();
    layer = await layerOf(edge);
  });

  it("redirects with 307 to a signed URL of the blob's key", async () => {
    const res = await edge.fetch(`/v2/git/blobs/${layer.digest}`);
    expect(res.status).toBe(307);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(`https://account.r2.cloudflarestorage.com/nixport/blobs/sha256/${layer.digest.slice(7)}`);
    expect(location.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(location.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(location.searchParams.get("X-Amz-Date")).toBe("20260301T120000Z");
    expect(location.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(res.headers.get("docker-content-digest")).toBe(layer.digest);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  it("repeats the same URL within a signing window and changes it in the next", async () => {
    clock = Date.UTC(2026, 2, 1, 12, 0, 30);
    const a = (await edge.fetch(`/v2/git/blobs/${layer.digest}`)).headers.get("location");
    clock = Date.UTC(2026, 2, 1, 12, 4, 59);
    const b = (await edge.fetch(`/v2/git/blobs/${layer.digest}`)).headers.get("location");
    clock = Date.UTC(2026, 2, 1, 12, 5, 0);
    const c = (await edge.fetch(`/v2/git/blobs/${layer.digest}`)).headers.get("location");
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(new URL(c!).searchParams.get("X-Amz-Date")).toBe("20260301T120500Z");
  });

  it("HEAD is answered from storage metadata, never redirected", async () => {
    const res = await edge.fetch(`/v2/git/blobs/${layer.digest}`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-length")).toBe(String(layer.size));
    expect(res.headers.get("docker-content-digest")).toBe(layer.digest);
  });

  it("HEAD of a missing blob is a 404, not a redirect", async () => {
    const res = await edge.fetch(`/v2/git/blobs/${ZERO_DIGEST}`, { method: "HEAD" });
    expect(res.status).toBe(404);
    expect(res.headers.get("location")).toBeNull();
  });

  it("GET of a missing blob is the registry's BLOB_UNKNOWN, not a redirect to the bucket's 404", async () => {
    const res = await edge.fetch(`/v2/git/blobs/${ZERO_DIGEST}`);
    expect(res.status).toBe(404);
    expect(res.headers.get("location")).toBeNull();
    expect((await ociError(res)).code).toBe("BLOB_UNKNOWN");
  });

  it("an invalid digest is refused before any URL is signed", async () => {
    const res = await edge.fetch("/v2/git/blobs/sha256:1234");
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect((await ociError(res)).code).toBe("DIGEST_INVALID");
  });
});

describe("blob GET with a public bucket URL", () => {
  it("redirects to the public URL, unsigned", async () => {
    const edge = makeEdge({ blobs: (store) => withBlobURL(store, publicBlobURL("https://blobs.example.com")) });
    const layer = await layerOf(edge);
    const res = await edge.fetch(`/v2/arm64/git/blobs/${layer.digest}`);
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`https://blobs.example.com/blobs/sha256/${layer.digest.slice(7)}`);
    const head = await edge.fetch(`/v2/git/blobs/${layer.digest}`, { method: "HEAD" });
    expect([head.status, head.headers.get("location")]).toEqual([200, null]);
  });
});

describe("blob GET streamed by the edge (no signer)", () => {
  it("sends the bytes, and the slice a Range asks for", async () => {
    const edge = makeEdge();
    const layer = await layerOf(edge);
    const expected = new TextDecoder().decode((await edge.store.blobs.get(layer.digest))!);
    const full = await edge.fetch(`/v2/git/blobs/${layer.digest}`);
    expect(await full.text()).toBe(expected);
    const part = await edge.fetch(`/v2/git/blobs/${layer.digest}`, { headers: { Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe(expected.slice(2, 6));
    const suffix = await edge.fetch(`/v2/git/blobs/${layer.digest}`, { headers: { Range: "bytes=-3" } });
    expect(await suffix.text()).toBe(expected.slice(-3));
  });
});

describe("storage failing under the edge", () => {
  /** A store whose reads throw `error()`. */
  const failing = (error: () => Error) =>
    makeEdge({ blobs: () => ({ stat: () => Promise.reject(error()), get: () => Promise.reject(error()) }) });

  it("answers 503 UNAVAILABLE with Retry-After for a StorageError, naming no host path", async () => {
    const edge = failing(() => new StorageError("EIO: i/o error, open '/srv/nixport/blobs/sha256/x'", { code: "EIO", syscall: "open" }));
    for (const method of ["HEAD", "GET"]) {
      const res = await edge.fetch(`/v2/git/blobs/sha256:${"ab".repeat(32)}`, { method });
      expect([res.status, res.headers.get("retry-after")]).toEqual([503, "5"]);
      if (method === "GET") {
        const e = await ociError(res);
        expect(e.code).toBe("UNAVAILABLE");
        expect(JSON.stringify(e)).not.toContain("/srv/nixport");
      }
    }
  });

  it("answers anything else a reader throws as an internal error, reported as unexpected", async () => {
    const edge = failing(() => new TypeError("Cannot read properties of undefined (reading 'size')"));
    const res = await edge.fetch(`/v2/git/blobs/sha256:${"ab".repeat(32)}`);
    expect(res.status).toBe(500);
    expect((await ociError(res)).code).toBe("UNKNOWN");
    expect(edge.unexpected).toHaveLength(1);
  });
});
