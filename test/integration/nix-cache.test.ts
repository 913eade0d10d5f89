// The registry as a Nix binary cache, for real: a builder builds an image, and a fresh Nix
// store substitutes the image's whole closure from the edge with the builder's NAR hashes;
// a second builder whose Nix store is empty builds the same image by substituting only.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSecretKey, parseSecretKey } from "../../builder/cache/signing-key.ts";
import { TESTPKGS } from "../support/nix.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";
import { startSwift, type SwiftS3 } from "../support/swift.ts";

const exec = promisify(execFile);
const OCI = "application/vnd.oci.image.manifest.v1+json";

interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
}

async function pathInfo(paths: string[], store?: string): Promise<PathInfo[]> {
  const args = ["--extra-experimental-features", "nix-command", "path-info", "--json", "--recursive", ...(store ? ["--store", store] : []), ...paths];
  const { stdout } = await exec("nix", args, { maxBuffer: 64 << 20 });
  const parsed = JSON.parse(stdout) as PathInfo[];
  return parsed.map(({ path, narHash, narSize }) => ({ path, narHash, narSize })).sort((a, b) => a.path.localeCompare(b.path));
}

/** `nix-store -r` into a fresh local store at `dir`, substituting only from `url`. */
function substitute(dir: string, url: string, key: string, path: string) {
  return exec("nix-store", ["--store", dir, "-r", path, "--option", "substituters", url, "--option", "trusted-public-keys", key, "--max-jobs", "0"]);
}

async function pull(registry: RunningRegistry, name: string): Promise<string> {
  const res = await fetch(`${registry.url}/v2/${name}/manifests/latest`, { headers: { Accept: OCI } });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.headers.get("docker-content-digest")!;
}

describe("binary cache", () => {
  let registry: RunningRegistry;
  let scratch: string;
  let hello: string;
  let digest: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "nixport-cache-"));
    registry = await startRegistry();
    digest = await pull(registry, "hello");
    hello = (await exec("nix-build", [TESTPKGS, "-A", "hello", "--no-out-link"])).stdout.trim();
  }, 180_000);

  afterAll(async () => {
    await registry?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("serves its info, and the public key on its own and on the landing page", async () => {
    const info = await fetch(`${registry.url}/nix-cache-info`).then((r) => r.text());
    expect(info).toBe("StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n");
    const key = (await fetch(`${registry.url}/nix-cache-public-key`).then((r) => r.text())).trim();
    expect(key).toMatch(/^nixport-1:[A-Za-z0-9+/]{43}=$/);
    expect(await fetch(`${registry.url}/`).then((r) => r.text())).toContain(key);
  });

  it("a fresh Nix store substitutes the image's whole closure, with the builder's NAR hashes", async () => {
    const key = (await fetch(`${registry.url}/nix-cache-public-key`).then((r) => r.text())).trim();
    const dir = join(scratch, "fresh");
    await substitute(dir, registry.url, key, hello);
    const want = await pathInfo([hello]);
    expect(want.length).toBeGreaterThan(1);
    expect(await pathInfo([hello], dir)).toEqual(want);
  }, 120_000);

  it("a store that trusts another key refuses the narinfos", async () => {
    const other = parseSecretKey(generateSecretKey("nixport-1")).publicKey;
    const dir = join(scratch, "distrust");
    await expect(substitute(dir, registry.url, other, hello)).rejects.toThrow(/not signed by any of the keys/);
    await expect(pathInfo([hello], dir)).rejects.toThrow();
  }, 60_000);

  it("answers 404 for a hash it never wrote, 400 for what names no store hash or NAR", async () => {
    const h = hello.slice("/nix/store/".length, "/nix/store/".length + 32);
    const narinfo = await fetch(`${registry.url}/${h}.narinfo`).then((r) => r.text());
    expect(narinfo).toContain(`StorePath: ${hello}\n`);
    const url = /^URL: (.*)$/m.exec(narinfo)![1]!;
    const nar = await fetch(`${registry.url}/${url}`);
    expect(nar.status).toBe(200);
    expect(Number(nar.headers.get("content-length"))).toBe(Number(/^FileSize: (\d+)$/m.exec(narinfo)![1]));
    await nar.body?.cancel();
    const cases: [string, number][] = [
      [`/${"0".repeat(32)}.narinfo`, 404],
      [`/nar/${"0".repeat(64)}.nar.zst`, 404],
      ["/abc.narinfo", 400],
      [`/${h.slice(0, 31)}e.narinfo`, 400],
      [`/nar/${"0".repeat(64)}.nar.xz`, 400],
      ["/nar/..%2f..%2fetc%2fpasswd", 400],
    ];
    for (const [path, status] of cases) {
      const res = await fetch(`${registry.url}${path}`);
      expect([path, res.status]).toEqual([path, status]);
      expect((await res.json()) as unknown).toHaveProperty("errors");
    }
  });

  it("a second builder with an empty Nix store substitutes from the first and builds the same image", async () => {
    const key = (await fetch(`${registry.url}/nix-cache-public-key`).then((r) => r.text())).trim();
    const empty = join(scratch, "empty-nix");
    mkdirSync(empty);
    // A mount namespace of its own, with an empty folder over /nix: its own Nix store.
    const wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c", `mount --bind ${empty} /nix && exec "$@"`, "sh"];
    const second = await startRegistry({ NIXPORT_SUBSTITUTE_ONLY: "1", NIXPORT_SUBSTITUTERS: registry.url, NIXPORT_TRUSTED_KEYS: key }, wrap);
    try {
      expect(await pull(second, "hello")).toBe(digest);
    } finally {
      await second.stop();
    }
  }, 180_000);
});

describe("binary cache on S3 (Swift), under a prefix", () => {
  let swift: SwiftS3;
  let registry: RunningRegistry;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "nixport-cache-s3-"));
    swift = await startSwift({ bucket: "nixport-cache" });
    registry = await startRegistry({
      NIXPORT_S3_BUCKET: swift.bucket,
      NIXPORT_S3_ENDPOINT: swift.endpoint,
      NIXPORT_S3_REGION: swift.region,
      NIXPORT_S3_PREFIX: "team/cache",
      AWS_ACCESS_KEY_ID: swift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
    });
    await pull(registry, "hello");
  }, 180_000);

  afterAll(async () => {
    await registry?.stop();
    await swift?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("NAR GETs redirect to presigned URLs, and a fresh store substitutes through them", async () => {
    const hello = (await exec("nix-build", [TESTPKGS, "-A", "hello", "--no-out-link"])).stdout.trim();
    const narinfo = await fetch(`${registry.url}/${hello.slice(11, 43)}.narinfo`).then((r) => r.text());
    const url = /^URL: (.*)$/m.exec(narinfo)![1]!;
    const res = await fetch(`${registry.url}/${url}`, { redirect: "manual" });
    expect(res.status).toBe(307);
    expect(new URL(res.headers.get("location")!).pathname).toBe(`/${swift.bucket}/team/cache/blobs/sha256/${url.slice(4, 68)}`);
    const key = (await fetch(`${registry.url}/nix-cache-public-key`).then((r) => r.text())).trim();
    const dir = join(scratch, "fresh");
    await substitute(dir, registry.url, key, hello);
    expect(await pathInfo([hello], dir)).toEqual(await pathInfo([hello]));
  }, 120_000);
});
