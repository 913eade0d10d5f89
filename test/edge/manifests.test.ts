/**
 * Manifest semantics inside workerd: HEAD builds, identical requests share builds and cache
 * entries, TTLs for moving sources and none for commits, builder outages, failures.
 */
import { describe, expect, it } from "vitest";
import { BuildError } from "../../common/build-error.ts";
import { DOCKER, makeEdge, OCI, ociError } from "./harness.ts";

const digestOf = (res: Response) => res.headers.get("docker-content-digest");

describe("manifests by tag", () => {
  it("HEAD of an image not yet built builds it, and GET then answers from the cache with the same headers", async () => {
    const edge = makeEdge();
    const head = await edge.fetch("/v2/shell/htop/manifests/latest", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(edge.builder.calls).toHaveLength(1);
    expect(head.headers.get("x-nixport-cache")).toBe("miss");
    const get = await edge.fetch("/v2/shell/htop/manifests/latest");
    expect(get.headers.get("x-nixport-cache")).toBe("hit");
    expect(edge.builder.calls).toHaveLength(1);
    const body = new Uint8Array(await get.arrayBuffer());
    for (const h of ["docker-content-digest", "content-type", "content-length"]) expect(head.headers.get(h)).toBe(get.headers.get(h));
    expect(Number(head.headers.get("content-length"))).toBe(body.byteLength);
  });

  it("HEAD from the cache needs no storage read and still reports the manifest's length", async () => {
    const edge = makeEdge();
    const built = await edge.fetch("/v2/git/manifests/latest");
    const size = (await built.arrayBuffer()).byteLength;
    edge.store.blobs.clear();
    const head = await edge.fetch("/v2/git/manifests/latest", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(size));
  });

  it("gives the digest of the bytes it serves", async () => {
    const edge = makeEdge();
    for (const accept of [DOCKER, OCI]) {
      const res = await edge.fetch("/v2/hello/manifests/latest", { headers: { Accept: accept } });
      const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", await res.arrayBuffer()));
      expect(digestOf(res)).toBe(`sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`);
      expect(res.headers.get("content-type")).toBe(accept);
    }
  });

  it("order, duplicates and where the meta-packages stand do not change the image", async () => {
    const edge = makeEdge();
    const paths = ["/v2/shell/git", "/v2/git/shell", "/v2/git/shell/git/git", "/v2/amd64/git/shell", "/v2/shell/amd64/git"];
    const digests = new Set<string | null>();
    for (const p of paths) digests.add(digestOf(await edge.fetch(`${p}/manifests/latest`)));
    expect(digests.size).toBe(1);
    expect(edge.builder.calls).toEqual([
      { arch: "amd64", packages: ["bashinteractive", "coreutils", "git", "moreutils", "nano"], tag: "latest" },
    ]);
    const arm = await edge.fetch("/v2/arm64/shell/git/manifests/latest");
    expect(digests.has(digestOf(arm))).toBe(false);
    expect(edge.builder.calls[1]?.arch).toBe("arm64");
  });

  it("concurrent identical pulls share one build", async () => {
    const edge = makeEdge({ builder: { delayMs: 30 } });
    const results = await Promise.all(
      ["/v2/git/htop", "/v2/htop/git", "/v2/git/htop", "/v2/htop/htop/git"].map((p) => edge.fetch(`${p}/manifests/latest`, { method: p.length % 2 ? "HEAD" : "GET" })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(results.map(digestOf)).size).toBe(1);
    expect(edge.builder.calls).toHaveLength(1);
    expect(edge.resolver.building).toBe(0);
  });

  it("different tags are different builds", async () => {
    const edge = makeEdge();
    const a = await edge.fetch("/v2/git/manifests/latest");
    const b = await edge.fetch("/v2/git/manifests/nixos-24.05");
    expect(digestOf(a)).not.toBe(digestOf(b));
    expect(edge.builder.calls.map((c) => c.tag)).toEqual(["latest", "nixos-24.05"]);
  });

  it("a moving source is rebuilt after its TTL; before it, the cache answers", async () => {
    const edge = makeEdge({ builder: { ttlSeconds: 300 } });
    const first = digestOf(await edge.fetch("/v2/git/manifests/latest"));
    edge.builder.generation++; // the channel moves on
    edge.advance(299_000);
    expect(digestOf(await edge.fetch("/v2/git/manifests/latest"))).toBe(first);
    expect(edge.builder.calls).toHaveLength(1);
    edge.advance(2_000);
    const second = await edge.fetch("/v2/git/manifests/latest");
    expect(edge.builder.calls).toHaveLength(2);
    expect(digestOf(second)).not.toBe(first);
    expect(second.headers.get("cache-control")).toBe("no-cache");
  });

  it("a commit is cached forever", async () => {
    const edge = makeEdge();
    const commit = "0123456789abcdef0123456789abcdef01234567";
    const first = await edge.fetch(`/v2/git/manifests/${commit}`);
    edge.advance(10 * 365 * 86_400_000);
    const later = await edge.fetch(`/v2/git/manifests/${commit}`);
    expect(digestOf(later)).toBe(digestOf(first));
    expect(later.headers.get("x-nixport-cache")).toBe("hit");
    expect(edge.builder.calls).toHaveLength(1);
  });

  it("rebuilds when the cached manifest is gone from storage", async () => {
    const edge = makeEdge();
    const first = await edge.fetch("/v2/git/manifests/latest");
    edge.store.blobs.delete(digestOf(first)!);
    const again = await edge.fetch("/v2/git/manifests/latest");
    expect(again.status).toBe(200);
    expect(edge.builder.calls).toHaveLength(2);
    expect(await edge.store.stat(digestOf(again)!)).not.toBeNull();
  });
});

describe("builder outages", () => {
  it("503 with the builder's Retry-After for an image never built", async () => {
    const edge = makeEdge();
    edge.builder.down = "unavailable";
    const res = await edge.fetch("/v2/git/manifests/latest");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await ociError(res)).code).toBe("UNAVAILABLE");
  });

  it("503 with the configured Retry-After when the builder cannot be reached at all", async () => {
    const edge = makeEdge({ builderClient: () => ({ build: () => Promise.reject(new TypeError("fetch failed")) }) });
    const res = await edge.fetch("/v2/git/manifests/latest");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
  });

  it("images already cached keep being served, even past their TTL", async () => {
    const edge = makeEdge({ builder: { ttlSeconds: 60 } });
    const built = await edge.fetch("/v2/git/manifests/latest");
    edge.builder.down = "unavailable";
    const fresh = await edge.fetch("/v2/git/manifests/latest");
    expect(fresh.status).toBe(200);
    expect(edge.builder.calls).toHaveLength(1);
    edge.advance(120_000);
    const stale = await edge.fetch("/v2/git/manifests/latest");
    expect(stale.status).toBe(200);
    expect(stale.headers.get("x-nixport-cache")).toBe("stale");
    expect(digestOf(stale)).toBe(digestOf(built));
    expect(edge.builder.calls).toHaveLength(2); // it did try
    const byDigest = await edge.fetch(`/v2/git/manifests/${digestOf(built)}`);
    expect(byDigest.status).toBe(200);
  });

  it("past the stale window, the outage shows", async () => {
    const edge = makeEdge({ builder: { ttlSeconds: 60 }, config: { staleSeconds: 600 } });
    await edge.fetch("/v2/git/manifests/latest");
    edge.builder.down = "timeout";
    edge.advance(61_000 + 601_000);
    expect((await edge.fetch("/v2/git/manifests/latest")).status).toBe(503);
  });

  it("a build that outlasts the pull wait is a 503 with Retry-After, and the builder's call is let go", async () => {
    const edge = makeEdge({ builder: { delayMs: 3_600_000 }, config: { pullWaitSeconds: 0.05, retryAfterSeconds: 7 } });
    const res = await edge.fetch("/v2/git/manifests/latest");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("7");
    const e = await ociError(res);
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toMatch(/still being built/);
    expect(edge.resolver.building).toBe(0);
  });

  it("caps distinct builds in flight per client: 429 past the cap, joins and cache hits free, other clients unaffected", async () => {
    const edge = makeEdge({ builder: { delayMs: 3_600_000 }, config: { pullWaitSeconds: 0.02, retryAfterSeconds: 7, maxBuildsPerClient: 2 } });
    const pull = (image: string, client: string) => edge.fetch(`/v2/${image}/manifests/latest`, { headers: { "x-test-client": client } });
    // Builds the client gave up waiting for go on at the builder, so they still count.
    expect((await pull("git", "a")).status).toBe(503);
    expect((await pull("hello", "a")).status).toBe(503);
    const refused = await pull("curl", "a");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("7");
    expect((await ociError(refused)).code).toBe("TOOMANYREQUESTS");
    expect(edge.builder.calls.map((c) => c.packages.join())).toEqual(["git", "hello"]);
    expect((await pull("git", "a")).status).toBe(503); // the same build again: not a new one
    expect((await pull("curl", "b")).status).toBe(503);
    edge.advance(30 * 60_000);
    expect((await pull("curl", "a")).status).toBe(503); // held builds count for 30 minutes at most
  });

  it("frees a client's slot once its build has a result", async () => {
    const edge = makeEdge({ config: { maxBuildsPerClient: 1 } });
    const pull = (image: string) => edge.fetch(`/v2/${image}/manifests/latest`, { headers: { "x-test-client": "a" } });
    expect((await pull("git")).status).toBe(200);
    expect((await pull("hello")).status).toBe(200);
    expect((await pull("nosuchpackage")).status).toBe(404);
    expect((await pull("curl")).status).toBe(200);
  });

  it("maps every builder error kind to a registry error", async () => {
    const cases: [BuildError, number, string][] = [
      [new BuildError("invalid_argument", "bad source ref"), 400, "NAME_INVALID"],
      [new BuildError("not_found", "no such", { unknownPackages: ["x"] }), 404, "MANIFEST_UNKNOWN"],
      [new BuildError("build_failed", "boom", { derivation: "/nix/store/x.drv", logTail: "tail" }), 500, "BUILD_FAILED"],
      [new BuildError("denied", "image too large: 3 GiB over the limit of 2 GiB"), 403, "DENIED"],
      [new BuildError("timeout", "slow"), 503, "UNAVAILABLE"],
      [new BuildError("unavailable", "down", { retryAfterSeconds: 30 }), 503, "UNAVAILABLE"],
      [new BuildError("unauthenticated", "token"), 503, "UNAVAILABLE"],
      [new BuildError("internal", "bug"), 500, "UNKNOWN"],
    ];
    for (const [err, status, code] of cases) {
      const edge = makeEdge({ builderClient: () => ({ build: () => Promise.reject(err) }) });
      const res = await edge.fetch("/v2/git/manifests/latest");
      expect([err.kind, res.status]).toEqual([err.kind, status]);
      expect((await ociError(res)).code).toBe(code);
      if (err.details.retryAfterSeconds) expect(res.headers.get("retry-after")).toBe("30");
    }
  });

  it("failures are not cached: the next pull asks the builder again", async () => {
    const edge = makeEdge();
    expect((await edge.fetch("/v2/broken/manifests/latest")).status).toBe(500);
    expect((await edge.fetch("/v2/nosuch/manifests/latest")).status).toBe(404);
    expect((await edge.fetch("/v2/broken/manifests/latest")).status).toBe(500);
    expect(edge.builder.calls).toHaveLength(3);
  });
});

describe("landing page", () => {
  it("shows the source, the revision, recent builds and failures, all escaped", async () => {
    const edge = makeEdge({ config: { source: "nixpkgs <unstable> & friends" } });
    await edge.fetch("/v2/git/manifests/latest");
    await edge.fetch("/v2/broken/manifests/latest");
    const res = await edge.fetch("/", { headers: { Host: "evil.test\"><script>alert(1)</script>" } });
    const html = await res.text();
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html).toContain("nixpkgs &lt;unstable&gt; &amp; friends");
    expect(html).toContain("latest-r1");
    expect(html).toContain("amd64/git:latest");
    expect(html).toContain("failed: BUILD_FAILED");
    expect(html).not.toContain("<script>");
    expect(html).toContain("evil.test&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;/shell/git/htop");
    expect(html).toContain("docker pull");
  });
});
