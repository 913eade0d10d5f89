/** The tag caches on Workers: KV and the Cache API (miniflare's), tiered, and the edge over them. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CacheApiTagCache, type CacheLike, KVTagCache, MemoryTagCache, type TagCache, type TagEntry, TieredTagCache } from "../../edge/cache.ts";
import { requestKey } from "../../common/image-request.ts";
import { makeEdge } from "./harness.ts";

const cacheApi = (globalThis as unknown as { caches: { default: CacheLike } }).caches.default;
const NOW = Date.UTC(2026, 0, 1);
const entry = (expires: number | null, n = 1): TagEntry => ({
  digest: `sha256:${String(n).repeat(64)}`,
  mediaType: "application/vnd.docker.distribution.manifest.v2+json",
  size: 500 + n,
  alternates: [{ digest: `sha256:${String(n + 1).repeat(64)}`, mediaType: "application/vnd.oci.image.manifest.v1+json", size: 480 }],
  revision: "abc",
  expires,
});

describe("KVTagCache", () => {
  it("round-trips entries and keeps moving ones until expiry plus the stale window", async () => {
    const kv = new KVTagCache(env.TAGS, 3600, () => Date.now());
    const moving = entry(Date.now() + 300_000);
    await kv.put("amd64/git:latest", moving);
    await kv.put(`amd64/git:${"a".repeat(40)}`, entry(null, 3));
    expect(await kv.get("amd64/git:latest")).toEqual(moving);
    expect(await kv.get("amd64/htop:latest")).toBeNull();
    const { keys } = await env.TAGS.list({ prefix: "tag:amd64/git:" });
    const byName = new Map(keys.map((k) => [k.name, k.expiration]));
    const expiration = byName.get("tag:amd64/git:latest")!;
    expect(expiration * 1000 - Date.now()).toBeGreaterThan(3800_000);
    expect(expiration * 1000 - Date.now()).toBeLessThan(3920_000);
    expect(byName.get(`tag:amd64/git:${"a".repeat(40)}`)).toBeUndefined(); // forever
  });

  it("treats a corrupt value as a miss", async () => {
    await env.TAGS.put("tag:amd64/curl:latest", "{not json");
    expect(await new KVTagCache(env.TAGS).get("amd64/curl:latest")).toBeNull();
  });
});

describe("CacheApiTagCache", () => {
  it("round-trips entries through caches.default", async () => {
    const c = new CacheApiTagCache(cacheApi, 3600, () => NOW);
    const e = entry(null, 4);
    await c.put("arm64/hello:latest", e);
    expect(await c.get("arm64/hello:latest")).toEqual(e);
    expect(await c.get("arm64/hello:other")).toBeNull();
  });
});

describe("TieredTagCache", () => {
  it("back-fills the faster tier from a slower hit", async () => {
    const fast = new MemoryTagCache(3600, () => NOW);
    const slow = new MemoryTagCache(3600, () => NOW);
    const tiered = new TieredTagCache([fast, slow]);
    await slow.put("k", entry(null, 5));
    expect(await fast.get("k")).toBeNull();
    expect(await tiered.get("k")).toEqual(entry(null, 5));
    expect(await fast.get("k")).toEqual(entry(null, 5));
    await tiered.put("k2", entry(null, 6));
    expect([await fast.get("k2"), await slow.get("k2")]).toEqual([entry(null, 6), entry(null, 6)]);
  });
});

describe("the edge over KV", () => {
  it("a second edge (another isolate) serves from the shared KV without building", async () => {
    const one = makeEdge({ tagCache: new KVTagCache(env.TAGS) });
    const first = await one.fetch("/v2/hello/git/manifests/latest");
    const two = makeEdge({ tagCache: new KVTagCache(env.TAGS) });
    // The second edge's builder wrote nothing: give it the first one's storage contents.
    for (const [d, b] of one.store.blobs) two.store.put(d, b);
    const second = await two.fetch("/v2/git/hello/manifests/latest");
    expect(second.status).toBe(200);
    expect(second.headers.get("docker-content-digest")).toBe(first.headers.get("docker-content-digest"));
    expect(two.builder.calls).toHaveLength(0);
    const stored = await env.TAGS.get(`tag:${requestKey({ arch: "amd64", packages: ["git", "hello"], tag: "latest" })}`);
    expect(JSON.parse(stored!).digest).toBe(first.headers.get("docker-content-digest"));
  });

  it("a failing cache never fails a pull", async () => {
    const broken: TagCache = {
      get: () => Promise.reject(new Error("KV down")),
      put: () => Promise.reject(new Error("KV down")),
    };
    const edge = makeEdge({ tagCache: broken });
    const res = await edge.fetch("/v2/git/manifests/latest");
    expect(res.status).toBe(200);
    expect(edge.unexpected.map((e) => (e as Error).message)).toEqual(["KV down", "KV down"]);
  });
});
