/**
 * The contract every BlobReader passes (memory, R2, filesystem, S3), as distribution runs one
 * suite against every storage driver. `put` stores bytes under a digest the way the builder
 * would; a store whose key space is shared (a bucket, a folder) also takes raw keys, and
 * reads the layout under the prefix it was made with.
 */
import { describe, expect, it } from "vitest";
import { blobKey, referrersRecordKey } from "../../common/storage/layout.ts";
import type { BlobReader } from "../../edge/storage/types.ts";

export interface ContractSubject {
  reader: BlobReader;
  put(digest: string, bytes: Uint8Array): Promise<void>;
  /** Writes an object at a raw storage key (stores with a shared key space only). */
  putObject?(key: string, bytes: Uint8Array): Promise<void>;
}

/** Makes a subject whose reader reads under `prefix` ("" or "a/b/"). */
export type ContractSetup = (prefix: string) => Promise<ContractSubject>;

const PREFIX = "team/cache/";

const text = async (s: ReadableStream<Uint8Array>) => new TextDecoder().decode(await new Response(s).arrayBuffer());

export function blobReaderContract(name: string, setupWith: ContractSetup, o: { prefixes?: boolean } = {}): void {
  const setup = () => setupWith("");
  describe(`BlobReader contract: ${name}`, () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const missing = `sha256:${"cd".repeat(32)}`;
    const bytes = new TextEncoder().encode("0123456789abcdef");

    it("stat gives the size, or null when missing", async () => {
      const s = await setup();
      await s.put(digest, bytes);
      expect(await s.reader.stat(digest)).toEqual({ digest, size: 16 });
      expect(await s.reader.stat(missing)).toBeNull();
    });

    it("get streams the whole blob with its size", async () => {
      const s = await setup();
      await s.put(digest, bytes);
      const body = await s.reader.get(digest);
      expect(body?.size).toBe(16);
      expect(await text(body!.stream)).toBe("0123456789abcdef");
      expect(await s.reader.get(missing)).toBeNull();
    });

    it("get with a range streams that slice and reports the whole size", async () => {
      const s = await setup();
      await s.put(digest, bytes);
      const body = await s.reader.get(digest, { start: 3, end: 6 });
      expect(body?.size).toBe(16);
      expect(body?.range).toEqual({ start: 3, end: 6 });
      expect(await text(body!.stream)).toBe("3456");
      const tail = await s.reader.get(digest, { start: 15, end: 15 });
      expect(await text(tail!.stream)).toBe("f");
    });

    it("an empty blob is a blob", async () => {
      const s = await setup();
      await s.put(digest, new Uint8Array());
      expect(await s.reader.stat(digest)).toEqual({ digest, size: 0 });
      expect(await text((await s.reader.get(digest))!.stream)).toBe("");
    });

    it("refuses keys that are not sha256 digests instead of reading elsewhere", async () => {
      const s = await setup();
      await expect(s.reader.stat("sha256:../../etc/passwd")).rejects.toThrow(/not a sha256 digest/);
    });

    if (!o.prefixes) return;
    it("reads the layout under its prefix, and nothing outside it", async () => {
      const s = await setupWith(PREFIX);
      await s.putObject!(PREFIX + blobKey(digest), bytes);
      await s.putObject!(blobKey(missing), bytes);
      expect(await s.reader.stat(digest)).toEqual({ digest, size: 16 });
      expect(await text((await s.reader.get(digest, { start: 10, end: 15 }))!.stream)).toBe("abcdef");
      expect(await s.reader.stat(missing)).toBeNull();
      expect(await s.reader.get(missing)).toBeNull();
      // put writes where the builder would: under the prefix too.
      await s.put(missing, bytes);
      expect(await s.reader.stat(missing)).toEqual({ digest: missing, size: 16 });
    });

    it("reads a record of the layout (a referrers record) under its prefix; null when absent", async () => {
      const s = await setupWith(PREFIX);
      await s.putObject!(PREFIX + referrersRecordKey(digest), bytes);
      await s.putObject!(referrersRecordKey(missing), bytes); // outside the prefix: not this store's
      expect(new TextDecoder().decode((await s.reader.readRecord!(referrersRecordKey(digest)))!)).toBe("0123456789abcdef");
      expect(await s.reader.readRecord!(referrersRecordKey(missing))).toBeNull();
    });
  });
}
