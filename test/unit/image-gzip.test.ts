import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { gunzipSync, inflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ParallelGzip } from "../../builder/image-io/gzip-parallel.ts";

const MiB = 1 << 20;

/** Deterministic, half compressible input. */
function input(size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    buf[i] = i % 512 < 256 ? (x >>> 24) : "nixport "[i % 8]!.charCodeAt(0);
  }
  return buf;
}

async function gzip(data: Buffer, pieces = 7, level = 6): Promise<Buffer> {
  const step = Math.max(1, Math.ceil(data.length / pieces));
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += step) chunks.push(data.subarray(i, i + step));
  return buffer(Readable.from(chunks).pipe(new ParallelGzip({ level })));
}

describe("ParallelGzip", () => {
  it.each([0, 1, 1000, MiB, MiB + 1, 3 * MiB + 12345])("round-trips %d bytes through gunzip", async (size) => {
    const data = input(size);
    const gz = await gzip(data);
    expect(gunzipSync(gz).equals(data)).toBe(true);
  });

  it("writes one gzip member with a fixed header (mtime 0, no name) and a correct trailer", async () => {
    const data = input(2 * MiB + 5);
    const gz = await gzip(data);
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    // The deflate stream between header and trailer is whole on its own: one member.
    expect(inflateRawSync(gz.subarray(10, gz.length - 8)).equals(data)).toBe(true);
    expect(gz.readUInt32LE(gz.length - 4)).toBe(data.length);
  });

  it("gives the same bytes whatever the input chunking", async () => {
    const data = input(3 * MiB);
    const a = await gzip(data, 1);
    expect((await gzip(data, 5)).equals(a)).toBe(true);
    expect((await gzip(data, 3000)).equals(a)).toBe(true);
  });

  it("compresses about as well as one deflate stream (blocks share a dictionary)", async () => {
    // A random 20 kB run repeated: every block edge falls inside a repeat that only the
    // previous block's dictionary can match. Without it each block pays 20 kB again.
    const run = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff));
    const data = Buffer.concat(Array.from({ length: 160 }, () => run));
    const ours = (await gzip(data)).length;
    const { gzipSync } = await import("node:zlib");
    expect(ours).toBeLessThan(gzipSync(data, { level: 6 }).length * 1.02);
  });

  it("honours the level", async () => {
    const data = input(2 * MiB);
    expect((await gzip(data, 3, 1)).length).toBeGreaterThan((await gzip(data, 3, 9)).length);
  });
});
