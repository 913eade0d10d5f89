/**
 * The one contract every BlobStore passes (fs, S3), run by store-fs.test.ts and
 * store-s3.test.ts against real backends.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { imageRecordKey, layerRecordKey, type ImageRecord, type LayerRecord } from "../../common/storage/layout.ts";
import { StorageError } from "../../common/storage/errors.ts";
import { InvalidKeyError, RangeNotSatisfiableError } from "../../builder/store/keys.ts";
import type { BlobStore } from "../../builder/store/types.ts";

export interface StoreHarness {
  store: BlobStore;
  /** A store of the same kind whose every I/O fails (missing folder, closed port). */
  unreachable: BlobStore;
  /**
   * Every object in this test's whole space, not just the store's part: fs, the files under
   * the root's parent folder; S3, the whole bucket. Scratch files are not in that space.
   */
  listAll(): Promise<string[]>;
  /** What every listed key must start with: the root's folder name or the S3 prefix. */
  keyPrefix: string;
  /** A folder for the test's own input files. */
  scratch: string;
  cleanup(): Promise<void>;
}

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export async function readAll(stream: Readable | null): Promise<Buffer> {
  expect(stream).not.toBeNull();
  const chunks: Buffer[] = [];
  for await (const chunk of stream as Readable) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const HEX = "ab".repeat(32);
export const BAD_DIGESTS = [
  "",
  "sha256:",
  `sha256:${HEX.slice(1)}`,
  `sha256:${HEX.toUpperCase()}`,
  `sha512:${HEX}${HEX}`,
  `sha256:../../${HEX.slice(6)}`,
  `sha256:${HEX}/../x`,
  `sha256:${HEX.slice(1)}\0`,
  `/etc/passwd`,
  HEX,
];
export const BAD_RECORD_KEYS = [
  "",
  "../x.json",
  "/etc/passwd",
  "layers/../../x.json",
  `layers/../images/${HEX}.json`,
  "layers/abc.json",
  `layers/${HEX}.json\0`,
  `layers/${HEX}\0.json`,
  `blobs/sha256/${HEX}`,
  `other/${HEX}.json`,
  `layers/${HEX}`,
  `layers/${HEX.toUpperCase()}.json`,
  `./layers/${HEX}.json`,
  `layers//${HEX}.json`,
  `layers\\..\\${HEX}.json`,
  `/layers/${HEX}.json`,
];

const LAYOUT_KEY_RE = /^(blobs\/sha256\/[a-f0-9]{64}|(layers|images)\/[a-z0-9]{16,128}\.json)$/;

export function describeBlobStoreContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: StoreHarness;
    let store: BlobStore;
    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("answers null for absent blobs and records", async () => {
      const digest = digestOf(Buffer.from("never stored"));
      expect(await store.statBlob(digest)).toBeNull();
      expect(await store.readBlob(digest)).toBeNull();
      expect(await store.readBlob(digest, { start: 0, end: 0 })).toBeNull();
      expect(await store.getRecord(layerRecordKey(HEX))).toBeNull();
    });

    it("stores bytes and files as blobs and reads them back", async () => {
      const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux" }));
      await store.putBlobBytes(digestOf(config), config, "application/vnd.oci.image.config.v1+json");
      expect(await store.statBlob(digestOf(config))).toEqual({ size: config.length });
      expect(await readAll(await store.readBlob(digestOf(config)))).toEqual(config);

      const layer = randomBytes(100_000);
      const file = join(h.scratch, "layer.tar.gz");
      await writeFile(file, layer);
      await store.putBlobFile(digestOf(layer), file, "application/vnd.oci.image.layer.v1.tar+gzip");
      expect(await store.statBlob(digestOf(layer))).toEqual({ size: layer.length });
      expect(await readAll(await store.readBlob(digestOf(layer)))).toEqual(layer);
      // The caller keeps its file, unchanged.
      expect(await readFile(file)).toEqual(layer);
    });

    it("stores an empty blob", async () => {
      const empty = new Uint8Array(0);
      await store.putBlobBytes(digestOf(empty), empty, "application/octet-stream");
      expect(await store.statBlob(digestOf(empty))).toEqual({ size: 0 });
      expect((await readAll(await store.readBlob(digestOf(empty)))).length).toBe(0);
    });

    it("puts idempotently: again, and by file after bytes", async () => {
      const bytes = randomBytes(4096);
      const digest = digestOf(bytes);
      await store.putBlobBytes(digest, bytes, "application/octet-stream");
      await store.putBlobBytes(digest, bytes, "application/octet-stream");
      const file = join(h.scratch, "same");
      await writeFile(file, bytes);
      await store.putBlobFile(digest, file, "application/octet-stream");
      expect(await readAll(await store.readBlob(digest))).toEqual(bytes);
      expect((await h.listAll()).filter((k) => k.endsWith(digest.slice(7)))).toHaveLength(1);
    });

    it("reads ranges: first byte, middle, last byte, clamped end", async () => {
      const bytes = randomBytes(1000);
      const digest = digestOf(bytes);
      await store.putBlobBytes(digest, bytes, "application/octet-stream");
      const read = async (start: number, end: number) => readAll(await store.readBlob(digest, { start, end }));
      expect(await read(0, 0)).toEqual(bytes.subarray(0, 1));
      expect(await read(300, 499)).toEqual(bytes.subarray(300, 500));
      expect(await read(999, 999)).toEqual(bytes.subarray(999));
      expect(await read(990, 5000)).toEqual(bytes.subarray(990));
    });

    it("refuses unsatisfiable and malformed ranges", async () => {
      const bytes = randomBytes(100);
      const digest = digestOf(bytes);
      await store.putBlobBytes(digest, bytes, "application/octet-stream");
      await expect(store.readBlob(digest, { start: 100, end: 120 })).rejects.toBeInstanceOf(RangeNotSatisfiableError);
      await expect(store.readBlob(digest, { start: 5, end: 4 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.readBlob(digest, { start: -1, end: 4 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.readBlob(digest, { start: 0.5, end: 4 })).rejects.toBeInstanceOf(RangeError);
    });

    it("round-trips and replaces records", async () => {
      const layerKey = layerRecordKey("0123456789abcdef0123");
      const layer: LayerRecord = { digest: `sha256:${HEX}`, diffId: `sha256:${"cd".repeat(32)}`, size: 42, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" };
      await store.putRecord(layerKey, layer);
      expect(await store.getRecord<LayerRecord>(layerKey)).toEqual(layer);

      const imageKey = imageRecordKey("zyx0123456789abcdefghij");
      const first: ImageRecord = { digest: `sha256:${HEX}`, mediaType: "application/vnd.oci.image.manifest.v1+json", size: 512 };
      const second: ImageRecord = { ...first, size: 600, revision: "0f1e2d", alternates: [{ digest: `sha256:${"ef".repeat(32)}`, mediaType: "application/vnd.docker.distribution.manifest.v2+json", size: 580 }] };
      await store.putRecord(imageKey, first);
      await store.putRecord(imageKey, second);
      expect(await store.getRecord<ImageRecord>(imageKey)).toEqual(second);
      // Records and blobs are different spaces: a record is not a blob.
      expect(await store.getRecord(layerRecordKey("f".repeat(16)))).toBeNull();
    });

    it("keeps every object under its root or prefix, in the layout's key forms", async () => {
      const bytes = Buffer.from("layout");
      await store.putBlobBytes(digestOf(bytes), bytes, "text/plain");
      const file = join(h.scratch, "f");
      await writeFile(file, bytes.subarray(1));
      await store.putBlobFile(digestOf(bytes.subarray(1)), file, "text/plain");
      await store.putRecord(layerRecordKey("a".repeat(32)), { n: 1 });
      await store.putRecord(imageRecordKey("b".repeat(32)), { n: 2 });
      const keys = (await h.listAll());
      expect(keys).toHaveLength(4);
      for (const key of keys) {
        expect(key.startsWith(h.keyPrefix), key).toBe(true);
        expect(key.slice(h.keyPrefix.length)).toMatch(LAYOUT_KEY_RE);
      }
    });

    it("rejects invalid digests and keys before any I/O", async () => {
      const bad = h.unreachable;
      const file = join(h.scratch, "x");
      await writeFile(file, "x");
      for (const digest of BAD_DIGESTS) {
        await expect(bad.statBlob(digest), digest).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(bad.readBlob(digest), digest).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(bad.putBlobBytes(digest, Buffer.from("x"), "t"), digest).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(bad.putBlobFile(digest, file, "t"), digest).rejects.toBeInstanceOf(InvalidKeyError);
      }
      for (const key of BAD_RECORD_KEYS) {
        await expect(bad.getRecord(key), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(bad.putRecord(key, {}), key).rejects.toBeInstanceOf(InvalidKeyError);
      }
      // The same calls with valid keys do reach the (unreachable) backend and fail there.
      await expect(bad.putRecord(layerRecordKey(HEX), {})).rejects.not.toBeInstanceOf(InvalidKeyError);
      // And the real store holds nothing after all of that.
      expect((await h.listAll())).toEqual([]);
    });

    it("fails as StorageError when the storage itself fails, and only then", async () => {
      const bad = h.unreachable;
      const file = join(h.scratch, "y");
      await writeFile(file, "y");
      const digest = `sha256:${HEX}`;
      await expect(bad.putRecord(layerRecordKey(HEX), {})).rejects.toBeInstanceOf(StorageError);
      await expect(bad.putBlobBytes(digest, Buffer.from("y"), "t")).rejects.toBeInstanceOf(StorageError);
      await expect(bad.putBlobFile(digest, file, "t")).rejects.toBeInstanceOf(StorageError);
      // A caller's mistakes are not storage failures, on a working store too.
      await expect(h.store.putBlobBytes("sha256:nope", Buffer.from("y"), "t")).rejects.not.toBeInstanceOf(StorageError);
      await expect(h.store.readBlob(digest, { start: 2, end: 1 })).rejects.toBeInstanceOf(RangeError);
      await expect(h.store.putRecord(layerRecordKey(HEX), undefined)).rejects.toBeInstanceOf(TypeError);
    });

    it("survives concurrent puts of the same digest", async () => {
      const bytes = randomBytes(300_000);
      const digest = digestOf(bytes);
      const file = join(h.scratch, "concurrent");
      await writeFile(file, bytes);
      await Promise.all([
        ...Array.from({ length: 6 }, () => store.putBlobBytes(digest, bytes, "application/octet-stream")),
        ...Array.from({ length: 4 }, () => store.putBlobFile(digest, file, "application/octet-stream")),
      ]);
      expect(await readAll(await store.readBlob(digest))).toEqual(bytes);
      expect((await h.listAll())).toHaveLength(1);
    });

    it("stores a 20 MB file (multipart on S3) and reads across part boundaries", async () => {
      const bytes = randomBytes(20 * 1024 * 1024);
      const digest = digestOf(bytes);
      const file = join(h.scratch, "big");
      await writeFile(file, bytes);
      await store.putBlobFile(digest, file, "application/vnd.oci.image.layer.v1.tar+gzip");
      expect(await store.statBlob(digest)).toEqual({ size: bytes.length });
      expect(digestOf(await readAll(await store.readBlob(digest)))).toBe(digest);
      const edge = 5 * 1024 * 1024;
      const part = await readAll(await store.readBlob(digest, { start: edge - 10, end: edge + 9 }));
      expect(part).toEqual(bytes.subarray(edge - 10, edge + 10));
    });
  });
}
