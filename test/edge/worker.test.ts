/**
 * The Worker entry (edge/worker/worker.ts) with the bindings of wrangler.toml: R2 for blobs, KV for
 * tags, vars for the rest. No builder client is wired yet, so only cached images serve.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chooseByRendezvous } from "../../edge/builder/chooser.ts";
import { MemoryBuilder } from "./memory-builder.ts";
import { KVTagCache } from "../../edge/cache.ts";
import { requestKey } from "../../common/image-request.ts";
import { createWorker, type WorkerEnv } from "../../edge/worker/worker.ts";
import { blobKey, CACHE_PUBLIC_KEY_KEY, narInfoRecordKey } from "../../common/storage/layout.ts";
import { KNOWN_PACKAGES, ociError } from "./harness.ts";

const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";

/** Stores a manifest in R2 (under a prefix) and its tag in KV, as the builder and an earlier pull would. */
async function seed(tag: string, prefix = ""): Promise<{ digest: string; bytes: Uint8Array }> {
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: DOCKER, config: {}, layers: [], tag }));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const digest = `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  await env.BLOBS.put(prefix + blobKey(digest), bytes);
  await new KVTagCache(env.TAGS).put(requestKey({ arch: "amd64", packages: ["git"], tag }), {
    digest, mediaType: DOCKER, size: bytes.byteLength, expires: null,
  });
  return { digest, bytes };
}

describe("Worker entry", () => {
  it("answers /v2/ with the API version header", async () => {
    const res = await SELF.fetch("https://registry.test/v2/");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  it("serves a cached image from KV + R2 while no builder is reachable", async () => {
    const { digest, bytes } = await seed("cached");
    const res = await SELF.fetch("https://registry.test/v2/git/manifests/cached");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    const head = await SELF.fetch(`https://registry.test/v2/git/manifests/${digest}`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, String(bytes.byteLength)]);
  });

  it("answers 503 with Retry-After for an image it cannot build", async () => {
    const res = await SELF.fetch("https://registry.test/v2/git/manifests/never-built");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("60");
    expect((await ociError(res)).code).toBe("UNAVAILABLE");
  });

  it("streams blobs from R2 when nothing can redirect, HEAD included", async () => {
    const { digest, bytes } = await seed("blob");
    const res = await SELF.fetch(`https://registry.test/v2/git/blobs/${digest}`, { headers: { Range: "bytes=0-9" } });
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes.slice(0, 10));
    const head = await SELF.fetch(`https://registry.test/v2/git/blobs/${digest}`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), head.headers.get("location")]).toEqual([200, String(bytes.byteLength), null]);
  });

  it("shows the SOURCE var escaped on the landing page", async () => {
    const html = await (await SELF.fetch("https://registry.test/")).text();
    expect(html).toContain("nixpkgs &lt;test&gt; &amp; co");
  });
});

describe("createWorker with other bindings", () => {
  const base = env as unknown as WorkerEnv;

  it("redirects blob GETs to PUBLIC_BLOB_URL, and presigns against R2's S3 endpoint with S3 credentials", async () => {
    const { digest } = await seed("redirects");
    const worker = createWorker(() => ({ build: () => Promise.reject(new Error("unused")) }));
    const pub = await worker.fetch(new Request(`https://r.test/v2/git/blobs/${digest}`), { ...base, PUBLIC_BLOB_URL: "https://blobs.example.com/" });
    expect(pub.status).toBe(307);
    expect(pub.headers.get("location")).toBe(`https://blobs.example.com/${blobKey(digest)}`);
    const s3env = { ...base, S3_ENDPOINT: "https://acct.r2.cloudflarestorage.com", S3_ACCESS_KEY_ID: "id", S3_SECRET_ACCESS_KEY: "secret", S3_BUCKET: "nixport" };
    const signed = await worker.fetch(new Request(`https://r.test/v2/git/blobs/${digest}`), s3env);
    expect(signed.status).toBe(307);
    const location = new URL(signed.headers.get("location")!);
    expect(location.pathname).toBe(`/nixport/${blobKey(digest)}`);
    expect(location.searchParams.get("X-Amz-Credential")).toMatch(/^id\/\d{8}\/auto\/s3\/aws4_request$/);
    const head = await worker.fetch(new Request(`https://r.test/v2/git/blobs/${digest}`, { method: "HEAD" }), s3env);
    expect([head.status, head.headers.get("location")]).toEqual([200, null]);
  });

  it("refuses a plain http:// builder beyond loopback (the token would travel in clear) unless told the network is private", async () => {
    const worker = createWorker(() => new MemoryBuilder({ packages: KNOWN_PACKAGES }));
    const pull = (env: object) => worker.fetch(new Request("https://r.test/v2/git/manifests/latest"), { ...base, ...env });
    const refused = await pull({ BUILDER_URLS: "http://builder.example:50051" });
    expect(refused.status).toBe(500);
    expect(JSON.stringify(await ociError(refused))).toMatch(/plain http.*BUILDER_ALLOW_PLAINTEXT/);
    for (const ok of [{ BUILDER_URLS: "https://builder.example" }, { BUILDER_URLS: "http://127.0.0.1:50051" }, { BUILDER_URLS: "http://[::1]:1" }, { BUILDER_URLS: "http://10.1.2.3:50051", BUILDER_ALLOW_PLAINTEXT: "1" }]) {
      expect((await pull(ok)).status, JSON.stringify(ok)).toBe(200);
    }
  });

  it("spreads images over BUILDER_URLS by rendezvous hashing, passing the token", async () => {
    const urls = ["https://b1.test", "https://b2.test", "https://b3.test"];
    const builders = new Map(urls.map((u) => [u, new MemoryBuilder({ packages: KNOWN_PACKAGES })]));
    const tokens: (string | undefined)[] = [];
    const worker = createWorker((url, token) => {
      tokens.push(token);
      return builders.get(url)!;
    });
    const wenv = { ...base, BUILDER_URLS: urls.join(", "), BUILDER_TOKEN: "t0ken" };
    const names = ["git", "htop", "hello", "curl", "nano", "git/htop", "curl/hello", "coreutils"];
    for (const n of names) {
      const res = await worker.fetch(new Request(`https://r.test/v2/${n}/manifests/route-test`), wenv);
      // The memory builders write to their own stores, so the manifest GET works from the build result.
      expect(res.status).toBe(200);
    }
    expect(tokens).toEqual(["t0ken", "t0ken", "t0ken"]);
    for (const n of names) {
      const packages = n.split("/").sort();
      const chosen = chooseByRendezvous(urls, requestKey({ arch: "amd64", packages, tag: "route-test" }));
      expect(builders.get(chosen)!.calls.map((c) => c.packages)).toContainEqual(packages);
    }
    expect([...builders.values()].reduce((n, b) => n + b.calls.length, 0)).toBe(names.length);
  });

  it("reads R2 and redirects under S3_PREFIX, the folder the builders write to", async () => {
    const { digest, bytes } = await seed("prefixed", "team/cache/");
    const worker = createWorker(() => ({ build: () => Promise.reject(new Error("unused")) }));
    const prefixed = { ...base, S3_PREFIX: "team/cache" };
    const manifest = await worker.fetch(new Request("https://r.test/v2/git/manifests/prefixed"), prefixed);
    expect([manifest.status, manifest.headers.get("docker-content-digest")]).toEqual([200, digest]);
    expect(new Uint8Array(await manifest.arrayBuffer())).toEqual(bytes);
    const blob = await worker.fetch(new Request(`https://r.test/v2/git/blobs/${digest}`, { headers: { Range: "bytes=2-5" } }), prefixed);
    expect(blob.status).toBe(206);
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(bytes.slice(2, 6));
    // Without the prefix the same Worker finds nothing: the objects are only under it.
    const unprefixed = await worker.fetch(new Request(`https://r.test/v2/git/blobs/${digest}`, { method: "HEAD" }), { ...base });
    expect(unprefixed.status).toBe(404);
    const pub = await worker.fetch(new Request(`https://r.test/v2/git/blobs/${digest}`), { ...prefixed, PUBLIC_BLOB_URL: "https://blobs.example.com" });
    expect(pub.headers.get("location")).toBe(`https://blobs.example.com/team/cache/${blobKey(digest)}`);
    const s3env = { ...prefixed, S3_ENDPOINT: "https://acct.r2.cloudflarestorage.com", S3_ACCESS_KEY_ID: "id", S3_SECRET_ACCESS_KEY: "secret", S3_BUCKET: "nixport" };
    const signed = await worker.fetch(new Request(`https://r.test/v2/git/blobs/${digest}`), s3env);
    expect(new URL(signed.headers.get("location")!).pathname).toBe(`/nixport/team/cache/${blobKey(digest)}`);
  });

  it("answers a Worker without storage with a well-formed error", async () => {
    const worker = createWorker(() => ({ build: () => Promise.reject(new Error("unused")) }));
    const res = await worker.fetch(new Request("https://r.test/v2/"), {});
    expect(res.status).toBe(500);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect((await ociError(res)).code).toBe("UNKNOWN");
  });
});

describe("Worker binary cache", () => {
  const HASH = "433dl96qrgxi57d73gwi11dpa3h1h8nn";

  it("serves the narinfo, the NAR and the public key the builder stored in R2", async () => {
    const nar = new TextEncoder().encode("a compressed NAR");
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", nar));
    const hex = [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
    await env.BLOBS.put(blobKey(`sha256:${hex}`), nar);
    const record = {
      storePath: `/nix/store/${HASH}-hello-2.12.1`, url: `nar/${hex}.nar.zst`, compression: "zstd",
      fileHash: "sha256:x", fileSize: nar.byteLength, narHash: "sha256:y", narSize: 120,
      references: [`/nix/store/${HASH}-hello-2.12.1`], sig: "nixport-1:c2ln",
    };
    await env.BLOBS.put(narInfoRecordKey(HASH), JSON.stringify(record));
    await env.BLOBS.put(CACHE_PUBLIC_KEY_KEY, JSON.stringify({ publicKey: "nixport-1:cHVi" }));

    const info = await SELF.fetch(`https://registry.test/${HASH}.narinfo`);
    expect([info.status, info.headers.get("content-type")]).toEqual([200, "text/x-nix-narinfo"]);
    const text = await info.text();
    expect(text).toContain(`StorePath: /nix/store/${HASH}-hello-2.12.1\nURL: nar/${hex}.nar.zst\n`);
    expect(text).toContain(`References: ${HASH}-hello-2.12.1\n`);
    const body = await SELF.fetch(`https://registry.test/nar/${hex}.nar.zst`);
    expect(new Uint8Array(await body.arrayBuffer())).toEqual(nar);
    expect(await SELF.fetch("https://registry.test/nix-cache-public-key").then((r) => r.text())).toBe("nixport-1:cHVi\n");
    expect(await SELF.fetch("https://registry.test/").then((r) => r.text())).toContain("nixport-1:cHVi");
  });

  it("answers 404 for a hash never written and 400 for one outside Nix's alphabet", async () => {
    expect((await SELF.fetch(`https://registry.test/${"1".repeat(32)}.narinfo`)).status).toBe(404);
    const bad = await SELF.fetch(`https://registry.test/${"u".repeat(32)}.narinfo`);
    expect([bad.status, (await ociError(bad)).code]).toEqual([400, "NAME_INVALID"]);
  });
});
