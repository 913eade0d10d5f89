/** The storage drivers inside workerd: memory, and R2 through miniflare's R2 binding. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { blobKey } from "../../common/storage/layout.ts";
import { R2BlobReader } from "../../edge/storage/r2.ts";
import { MemoryBlobStore } from "./memory-blobs.ts";
import { publicBlobURL } from "../../edge/storage/public-url.ts";
import { readSmallBlob, withBlobURL } from "../../edge/storage/types.ts";
import { blobReaderContract } from "./blob-reader-contract.ts";

blobReaderContract("memory", async () => {
  const store = new MemoryBlobStore();
  return { reader: store, put: async (d, b) => store.put(d, b) };
});

blobReaderContract(
  "R2 binding",
  async (prefix) => {
    const listed = ["ab", "cd"].map((x) => blobKey(`sha256:${x.repeat(32)}`));
    await env.SCRATCH.delete([...listed, ...listed.map((k) => `team/cache/${k}`)]);
    const putObject = async (key: string, b: Uint8Array) => void (await env.SCRATCH.put(key, b));
    return { reader: new R2BlobReader(env.SCRATCH, prefix), put: (d, b) => putObject(prefix + blobKey(d), b), putObject };
  },
  { prefixes: true },
);

describe("storage helpers", () => {
  it("readSmallBlob refuses blobs over the limit", async () => {
    const store = new MemoryBlobStore();
    const d = `sha256:${"11".repeat(32)}`;
    store.put(d, new Uint8Array(100));
    expect((await readSmallBlob(store, d, 100))?.byteLength).toBe(100);
    expect(await readSmallBlob(store, d, 99)).toBeNull();
  });

  it("publicBlobURL points at the blob's storage key under the base", async () => {
    const d = `sha256:${"12".repeat(32)}`;
    const reader = withBlobURL(new MemoryBlobStore(), publicBlobURL("https://cdn.example.com/bucket/"));
    expect(await reader.blobURL!(d)).toEqual({ status: 307, location: `https://cdn.example.com/bucket/blobs/sha256/${"12".repeat(32)}` });
    const prefixed = publicBlobURL("https://cdn.example.com/bucket", "team/cache/");
    expect(await prefixed(d)).toEqual({ status: 307, location: `https://cdn.example.com/bucket/team/cache/blobs/sha256/${"12".repeat(32)}` });
  });
});
