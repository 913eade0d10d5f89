import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { layerRecordKey } from "../../common/storage/layout.ts";
import { FsBlobStore } from "../../builder/store/fs.ts";
import { InvalidKeyError } from "../../builder/store/keys.ts";
import { describeBlobStoreContract, digestOf, readAll } from "./store-contract.ts";

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describeBlobStoreContract("fs", async () => {
  const base = await mkdtemp(join(tmpdir(), "nixport-fs-store-"));
  const space = join(base, "space");
  const scratch = join(base, "scratch");
  await mkdir(scratch);
  await mkdir(space);
  // A root below a regular file: every filesystem call under it fails.
  await writeFile(join(base, "not-a-folder"), "");
  return {
    store: new FsBlobStore(join(space, "store")),
    unreachable: new FsBlobStore(join(base, "not-a-folder", "store")),
    listAll: () => listFiles(space),
    keyPrefix: "store/",
    scratch,
    cleanup: () => rm(base, { recursive: true, force: true }),
  };
});

describe("FsBlobStore", () => {
  let base: string;
  let store: FsBlobStore;
  const blobPath = (digest: string) => join(base, "store", "blobs", "sha256", digest.slice(7));
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), "nixport-fs-store-"));
    store = new FsBlobStore(join(base, "store"));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it("hard-links a file on the same filesystem", async () => {
    const bytes = randomBytes(1000);
    const file = join(base, "layer");
    await writeFile(file, bytes);
    await store.putBlobFile(digestOf(bytes), file, "t");
    expect(statSync(blobPath(digestOf(bytes))).ino).toBe(statSync(file).ino);
    expect(statSync(file).nlink).toBe(2);
  });

  const shm = "/dev/shm";
  const otherFs = existsSync(shm) && statSync(shm).dev !== statSync(tmpdir()).dev;
  it.skipIf(!otherFs)("copies a file from another filesystem", async () => {
    const bytes = randomBytes(50_000);
    const dir = await mkdtemp(join(shm, "nixport-"));
    try {
      const file = join(dir, "layer");
      await writeFile(file, bytes);
      await store.putBlobFile(digestOf(bytes), file, "t");
      const stored = statSync(blobPath(digestOf(bytes)));
      expect(stored.dev).not.toBe(statSync(file).dev);
      expect(await readFile(blobPath(digestOf(bytes)))).toEqual(bytes);
      expect(await readFile(file)).toEqual(bytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a source that is not a regular file", async () => {
    await expect(store.putBlobFile(digestOf(Buffer.from("d")), base, "t")).rejects.toThrow(/not a regular file/);
  });

  it("replaces a blob left with the wrong size", async () => {
    const bytes = randomBytes(64);
    const path = blobPath(digestOf(bytes));
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, bytes.subarray(0, 10));
    await store.putBlobBytes(digestOf(bytes), bytes, "t");
    expect(await readFile(path)).toEqual(bytes);
  });

  it("leaves nothing under the key, and the old record intact, when a write fails midway", async () => {
    const key = layerRecordKey("c".repeat(20));
    await store.putRecord(key, { version: 1 });
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('{"version":');
      throw new Error("source broke");
    }
    await expect(store.writeAtomically(key, failing())).rejects.toThrow("source broke");
    expect(await store.getRecord(key)).toEqual({ version: 1 });
    const blobKey = `blobs/sha256/${"d".repeat(64)}`;
    await expect(store.writeAtomically(blobKey, failing())).rejects.toThrow("source broke");
    expect(existsSync(join(base, "store", blobKey))).toBe(false);
    expect(await listFiles(join(base, "store", ".tmp"))).toEqual([]);
  });

  it("leaves nothing under the key when the writing process is killed midway", async () => {
    const key = `blobs/sha256/${"e".repeat(64)}`;
    const root = join(base, "store");
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/fs-half-writer.ts", root, key], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (d: Buffer) => d.toString().includes("half") && resolve());
      child.once("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    });
    child.kill("SIGKILL");
    await exited;
    expect(existsSync(join(root, key))).toBe(false);
    // The half-written bytes exist, but only as a temp file no reader looks at.
    const temps = await listFiles(join(root, ".tmp"));
    expect(temps).toHaveLength(1);
    expect(statSync(join(root, ".tmp", temps[0] as string)).size).toBe(1024 * 1024);
    expect(await store.statBlob(`sha256:${"e".repeat(64)}`)).toBeNull();
    // A sweep keeps young temp files (writes may be in progress) and removes old ones.
    expect(await store.sweepTemp(60_000)).toBe(0);
    expect(await store.sweepTemp(0)).toBe(1);
    expect(await listFiles(join(root, ".tmp"))).toEqual([]);
  });

  it("writes atomically only under layout keys", async () => {
    for (const key of ["../escape", ".tmp/x", "blobs/sha256/../../x", `blobs/sha256/${"a".repeat(63)}`, "layers/x.json"]) {
      await expect(store.writeAtomically(key, [new Uint8Array(1)]), key).rejects.toBeInstanceOf(InvalidKeyError);
    }
    expect(await listFiles(base)).toEqual([]);
  });

});
