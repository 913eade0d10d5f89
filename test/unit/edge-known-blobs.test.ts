/** storage/known.ts: presence remembered for a while, absence never, redirects passed through. */
import { describe, expect, it } from "vitest";
import { rememberingPresence } from "../../edge/storage/known.ts";
import type { BlobInfo, BlobReader } from "../../edge/storage/types.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const C = `sha256:${"c".repeat(64)}`;

function countingReader(present: Map<string, number>) {
  const stats: string[] = [];
  const reader: BlobReader = {
    stat: async (digest): Promise<BlobInfo | null> => {
      stats.push(digest);
      const size = present.get(digest);
      return size === undefined ? null : { digest, size };
    },
    get: async () => null,
  };
  return { reader, stats };
}

describe("rememberingPresence", () => {
  it("asks storage once per blob within the window, and again after it", async () => {
    let clock = 1_000;
    const { reader, stats } = countingReader(new Map([[A, 10]]));
    const r = rememberingPresence(reader, { ttlMs: 500, now: () => clock });
    expect(await r.stat(A)).toEqual({ digest: A, size: 10 });
    expect(await r.stat(A)).toEqual({ digest: A, size: 10 });
    clock += 499;
    await r.stat(A);
    expect(stats).toEqual([A]);
    clock += 1;
    await r.stat(A);
    expect(stats).toEqual([A, A]);
  });

  it("never remembers absence: a blob that lands is seen at once", async () => {
    const present = new Map<string, number>();
    const { reader, stats } = countingReader(present);
    const r = rememberingPresence(reader);
    expect(await r.stat(B)).toBeNull();
    present.set(B, 7);
    expect(await r.stat(B)).toEqual({ digest: B, size: 7 });
    expect(stats).toEqual([B, B]);
  });

  it("a blob removed from storage stops being vouched for once its window ends", async () => {
    let clock = 0;
    const present = new Map([[A, 1]]);
    const { reader } = countingReader(present);
    const r = rememberingPresence(reader, { ttlMs: 100, now: () => clock });
    await r.stat(A);
    present.delete(A);
    expect(await r.stat(A)).not.toBeNull();
    clock = 100;
    expect(await r.stat(A)).toBeNull();
  });

  it("keeps at most maxEntries digests, dropping the oldest", async () => {
    const { reader, stats } = countingReader(new Map([[A, 1], [B, 2], [C, 3]]));
    const r = rememberingPresence(reader, { maxEntries: 2 });
    await r.stat(A);
    await r.stat(B);
    await r.stat(C);
    stats.length = 0;
    await r.stat(C);
    await r.stat(B);
    expect(stats).toEqual([]);
    await r.stat(A);
    expect(stats).toEqual([A]);
  });

  it("passes get and blobURL through, and adds no blobURL a reader lacks", async () => {
    const { reader } = countingReader(new Map());
    expect(rememberingPresence(reader).blobURL).toBeUndefined();
    const withURL: BlobReader = { ...reader, blobURL: async (d) => ({ location: `https://x/${d}`, status: 307 }) };
    expect(await rememberingPresence(withURL).blobURL!(A)).toEqual({ location: `https://x/${A}`, status: 307 });
  });
});
