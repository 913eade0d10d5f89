// The NAR writer against the real Nix store: each path's NAR is stored as a blob whose bytes
// decompress to what `nix-store --dump` gives, the record after it; a second write of a
// cached path reads nothing of the Nix store (a nix-store that does not exist is never run).
import { execFile, spawnSync } from "node:child_process";
import { createHash, createPublicKey, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { narCache, publishPublicKey, storeHashOf } from "../../builder/cache/nar-writer.ts";
import { generateSecretKey, loadSigningKey, parseSecretKey } from "../../builder/cache/signing-key.ts";
import { FsBlobStore } from "../../builder/store/fs.ts";
import { readStream } from "../../builder/store/errors.ts";
import { CACHE_PUBLIC_KEY_KEY, narInfoRecordKey } from "../../common/storage/layout.ts";
import { fingerprint, narDigestOf, nix32, type NarInfoRecord } from "../../common/nix-cache/narinfo.ts";
import { TESTPKGS, testNix } from "../support/nix.ts";

const exec = promisify(execFile);

describe("NAR writer", () => {
  let dir: string;
  let store: FsBlobStore;
  let hello: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nixport-nar-"));
    store = new FsBlobStore(join(dir, "store"));
    hello = (await exec("nix-build", [TESTPKGS, "-A", "hello", "--no-out-link"])).stdout.trim();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a verifiable entry per path once; a cached path costs one record read", async () => {
    const key = parseSecretKey(generateSecretKey("test-1"));
    const graph = await testNix().closure([hello]);
    const cache = narCache({ store, key, workDir: dir });
    expect(await cache.write(graph.paths)).toBe(graph.paths.length);
    const again = narCache({ store, key, workDir: dir, nixStore: "/nonexistent/nix-store" });
    expect(await again.write(graph.paths)).toBe(0);

    const record = (await store.getRecord<NarInfoRecord>(narInfoRecordKey(storeHashOf(hello))))!;
    const nar = (await exec("nix-store", ["--dump", hello], { encoding: "buffer", maxBuffer: 64 << 20 })).stdout;
    expect(record.narHash).toBe(`sha256:${nix32(createHash("sha256").update(nar).digest())}`);
    const file = await readStream((await store.readBlob(narDigestOf(record.url)!))!);
    expect(spawnSync("zstd", ["-dc"], { input: file, maxBuffer: 64 << 20 }).stdout.equals(nar)).toBe(true);
    expect(record.fileSize).toBe(file.length);
    const pub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(key.publicKey.slice(7), "base64").toString("base64url") }, format: "jwk" });
    expect(verify(null, Buffer.from(fingerprint(record)), pub, Buffer.from(record.sig.slice(7), "base64"))).toBe(true);

    await publishPublicKey(store, key);
    expect(await store.getRecord(CACHE_PUBLIC_KEY_KEY)).toEqual({ publicKey: key.publicKey });
  }, 60_000);

  it("two builds writing the same paths at once write each NAR once", async () => {
    const key = parseSecretKey(generateSecretKey("test-1"));
    const graph = await testNix().closure([hello]);
    const cache = narCache({ store: new FsBlobStore(join(dir, "store-2")), key, workDir: dir });
    const counts = await Promise.all([cache.write(graph.paths), cache.write(graph.paths)]);
    expect(counts[0]! + counts[1]!).toBe(graph.paths.length);
  }, 60_000);

  it("a generated key is made once, private, and kept; Nix's own key files load as they are", async () => {
    const file = join(dir, "keys", "nix-cache.secret");
    const first = await loadSigningKey(file, { name: "nixport-1" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadSigningKey(file, { name: "nixport-1" })).publicKey).toBe(first.publicKey);
    await expect(loadSigningKey(join(dir, "missing"))).rejects.toThrow(/ENOENT/);
    await exec("nix-store", ["--generate-binary-cache-key", "host-a", join(dir, "sk"), join(dir, "pk")]);
    expect((await loadSigningKey(join(dir, "sk"))).publicKey).toBe(readFileSync(join(dir, "pk"), "utf8").trim());
  });
});
