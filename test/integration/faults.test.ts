import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connectBuilder } from "../../edge/builder/connect.ts";
import { createNodeEdge } from "../../edge/node/app.ts";
import { cuttableProxy } from "../support/cut-proxy.ts";
import { fixturePkgs } from "../support/fixture-pkgs.ts";
import { freePort, startRegistry, type RunningRegistry } from "../support/registry.ts";
import { checkFsStore } from "../support/store-check.ts";
import { startSwift } from "../support/swift.ts";
import { storageConfigFromEnv } from "../../common/storage/config.ts";

// Faults and concurrency against the all-in-one server: many identical cold pulls, crashes
// mid-build, object storage going away, the builder unreachable, a full disk.
const DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json";
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function registry(env: NodeJS.ProcessEnv): Promise<RunningRegistry> {
  const r = await startRegistry(env);
  cleanups.push(() => r.stop());
  return r;
}

interface Pulled {
  status: number;
  digest: string | null;
  body: string;
  retryAfter: string | null;
}

async function pullManifest(url: string, name: string): Promise<Pulled> {
  const res = await fetch(`${url}/v2/${name}/manifests/latest`, { headers: { accept: DOCKER_V2 } });
  return { status: res.status, digest: res.headers.get("docker-content-digest"), body: await res.text(), retryAfter: res.headers.get("retry-after") };
}

const sha256 = (data: string | Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const buildsDone = (r: RunningRegistry) => r.logs().match(/"msg":"build done"/g)?.length ?? 0;
const ociError = (body: string) => (JSON.parse(body) as { errors: { code: string; message: string }[] }).errors[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `ready` every few milliseconds until it holds (or the deadline passes). */
async function until(ready: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

const entries = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

describe("faults and concurrency", () => {
  it("100 concurrent cold pulls of one never-built image share one build and get one manifest", async () => {
    const pkgs = fixturePkgs();
    const r = await registry({ NIXPORT_PKGS_PATH: pkgs.dir });
    const pulls = await Promise.all(Array.from({ length: 100 }, () => pullManifest(r.url, "uniq")));
    expect(pulls.map((p) => p.status)).toEqual(Array(100).fill(200));
    expect(new Set(pulls.map((p) => p.body)).size).toBe(1);
    expect(new Set(pulls.map((p) => p.digest)).size).toBe(1);
    expect(pulls[0]!.digest).toBe(sha256(pulls[0]!.body));
    expect(buildsDone(r)).toBe(1);
    expect((await checkFsStore(r.dataDir)).problems).toEqual([]);
  });

  it("SIGKILL mid-build, 10 times: the store never shows a partial or dangling object, and the next pull succeeds", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `big${i}`);
    const pkgs = fixturePkgs({ big: names.map((name) => ({ name, sizeMB: 30, parts: 3 })) });
    const dataDir = mkdtempSync(join(tmpdir(), "nixport-kill-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { NIXPORT_PKGS_PATH: pkgs.dir, NIXPORT_DATA: dataDir };
    const moments: string[] = [];
    let pending = 0;
    const folders = { nix: "gcroots", writing: "work", uploading: "blobs/sha256", recording: "layers" } as const;
    for (const [i, name] of names.entries()) {
      // Kill 0 during Nix (the build's GC-root folder appears just before nix-build starts);
      // 1–3 during layer writing; 4–6 once blobs are being linked in; 7–9 once layer records
      // are being written. Each waits for a new file in that stage's folder, then a little.
      const stage = i === 0 ? "nix" : i <= 3 ? "writing" : i <= 6 ? "uploading" : "recording";
      const folder = join(dataDir, folders[stage]);
      const seen = new Set(entries(folder));
      const r = await startRegistry(env);
      let answered = false;
      const pull = pullManifest(r.url, name).then(() => (answered = true), () => (answered = true));
      await until(() => entries(folder).some((f) => !seen.has(f)));
      await sleep(stage === "writing" ? (i - 1) * 300 : (i % 3) * 15);
      moments.push(answered ? "done" : stage);
      if (!answered) pending++;
      await r.kill();
      await pull;
      const check = await checkFsStore(dataDir);
      expect(check.problems, `after kill ${i} (${moments[i]})`).toEqual([]);
      if (i === 0) {
        // Realise every image once, so later kills land in layer writing, not in Nix.
        const roots = mkdtempSync(join(tmpdir(), "nixport-roots-"));
        cleanups.push(() => rmSync(roots, { recursive: true, force: true }));
        execFileSync("nix-build", [pkgs.dir, "--out-link", join(roots, "big"), ...names.flatMap((n) => ["-A", n])], { stdio: "ignore" });
      }
    }
    // Nearly every kill lands mid-build (one racing the end of a build is no failure).
    expect(pending, `kill moments: ${moments.join(", ")}`).toBeGreaterThanOrEqual(8);
    // Restarted on the crashed store, every killed image pulls, served whole.
    const r = await registry(env);
    for (const name of [names[0]!, names[5]!, names[9]!]) {
      const p = await pullManifest(r.url, name);
      expect(p.status, p.body).toBe(200);
      const layers = (JSON.parse(p.body) as { layers: { digest: string; size: number }[] }).layers;
      for (const l of layers) {
        const head = await fetch(`${r.url}/v2/${name}/blobs/${l.digest}`, { method: "HEAD" });
        expect(head.status).toBe(200);
        expect(Number(head.headers.get("content-length"))).toBe(l.size);
      }
    }
    const after = await checkFsStore(dataDir);
    expect(after.problems).toEqual([]);
    expect(after.manifests).toBeGreaterThanOrEqual(3);
  }, 240_000);

  it("object storage going away mid-build: a prompt 503 naming the storage; the next pull succeeds once it is back", async () => {
    const swift = await startSwift();
    cleanups.push(() => swift.stop());
    const proxy = await cuttableProxy(Number(new URL(swift.endpoint).port));
    cleanups.push(() => proxy.close());
    const pkgs = fixturePkgs({ big: [{ name: "bigs3", sizeMB: 40, parts: 2 }] });
    const r = await registry({
      NIXPORT_PKGS_PATH: pkgs.dir,
      NIXPORT_S3_BUCKET: swift.bucket,
      NIXPORT_S3_ENDPOINT: proxy.url,
      NIXPORT_S3_REGION: swift.region,
      AWS_ACCESS_KEY_ID: swift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
    });
    // Storage refuses from the first upload on (layers are written, reads already done).
    proxy.cutOnUpload();
    const started = Date.now();
    const failed = await pullManifest(r.url, "bigs3");
    expect(proxy.cuts).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(failed.status).toBe(503);
    expect(failed.retryAfter).toMatch(/^\d+$/);
    expect(ociError(failed.body).code).toBe("UNAVAILABLE");
    expect(ociError(failed.body).message).toMatch(/storage failed while uploading a layer/);
    expect(r.alive()).toBe(true);
    proxy.restore();
    const ok = await pullManifest(r.url, "bigs3");
    expect(ok.status, ok.body).toBe(200);
    for (const l of (JSON.parse(ok.body) as { layers: { digest: string; size: number }[] }).layers) {
      const head = await fetch(`${r.url}/v2/bigs3/blobs/${l.digest}`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get("content-length"))).toBe(l.size);
    }
    expect(entries(join(r.dataDir, "work"))).toEqual([]);
  }, 180_000);

  it("builder unreachable: cached images still pull, uncached ones get 503 with Retry-After", async () => {
    const r = await registry({});
    const cached = await pullManifest(r.url, "hello");
    expect(cached.status).toBe(200);
    await r.stop();
    const closed = await freePort();
    const { app } = createNodeEdge({ builder: connectBuilder({ baseUrl: `http://127.0.0.1:${closed}` }), storage: storageConfigFromEnv({ NIXPORT_DATA: r.dataDir }) });
    const get = (path: string, init: RequestInit = {}) => app.fetch(new Request(`http://registry.test/v2/${path}`, init));

    const byTag = await get("hello/manifests/latest", { headers: { accept: DOCKER_V2 } });
    expect(byTag.status).toBe(200);
    expect(await byTag.text()).toBe(cached.body);
    const byDigest = await get(`hello/manifests/${cached.digest}`);
    expect(byDigest.status).toBe(200);
    expect(await byDigest.text()).toBe(cached.body);
    const manifest = JSON.parse(cached.body) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    for (const l of manifest.layers) {
      const blob = await get(`hello/blobs/${l.digest}`);
      expect(blob.status).toBe(200);
      expect(sha256(new Uint8Array(await blob.arrayBuffer()))).toBe(l.digest);
    }

    const uncached = await get("jq/manifests/latest", { headers: { accept: DOCKER_V2 } });
    expect(uncached.status).toBe(503);
    expect(uncached.headers.get("retry-after")).toMatch(/^\d+$/);
    const err = ociError(await uncached.text());
    expect(err.code).toBe("UNAVAILABLE");
    expect(err.message).toMatch(/builder is unavailable/);
  });

  it("a full disk: a clean storage error, nothing corrupt left visible, and the server keeps serving", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "nixport-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", dataDir]);
    cleanups.push(() => {
      execFileSync("umount", [dataDir]);
      rmSync(dataDir, { recursive: true, force: true });
    });
    // Four ~9 MB layers written one at a time: the first is stored whole (a valid cache
    // entry), the second fills the disk.
    const pkgs = fixturePkgs({ big: [{ name: "bigdisk", sizeMB: 96, parts: 4 }] });
    const r = await registry({ NIXPORT_PKGS_PATH: pkgs.dir, NIXPORT_DATA: dataDir, NIXPORT_WRITE_PARALLELISM: "1" });
    const failed = await pullManifest(r.url, "bigdisk/hello");
    expect(failed.status, failed.body).toBe(503);
    expect(ociError(failed.body).message).toMatch(/no space left on the store's disk \(ENOSPC\)/);
    expect(r.alive()).toBe(true);
    const check = await checkFsStore(dataDir);
    expect(check.problems).toEqual([]);
    expect(check.scratch).toEqual([]);
    // The space was given back: a small image still builds and is served.
    const hello = await pullManifest(r.url, "hello/jq");
    expect(hello.status, hello.body).toBe(200);
    expect((await checkFsStore(dataDir)).problems).toEqual([]);
    await r.stop();
  });
});
