/**
 * The layer writer: tar entries → a compressed layer file with known digests. One pass
 * hashes the tar (diffId) and compresses it into a temp file in `outDir`; the compressed
 * bytes are hashed and counted (digest, size) on their way to the file (gzip, compressed
 * here) or from the finished file (zstd, which writes it itself: see zstd-pipe.ts). The file
 * is renamed to `<hex>.<writer>.tar.gz|zst` only when whole: the writer's own name, so two
 * writers of the same layer never share a file (one's cleanup would remove the other's
 * before its upload). Memory stays bounded: files are streamed in 1 MiB reads and every
 * stage applies backpressure. Headers are fixed (mtime 1, uid/gid 0 unless an entry names
 * its owner, no user or group names), so the same entries always give the same bytes.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import tar, { type Header } from "tar-stream";
import { digestHex, digestOf, newDigester } from "../image/digest.ts";
import { ParallelGzip } from "./gzip-parallel.ts";
import { layerMediaType, type Compression } from "../image/media-types.ts";
import { storePathEntries, type TarEntry } from "./tar-entries.ts";
import { zstdFile, type CompressedFile } from "./zstd-pipe.ts";

const READ_SIZE = 1 << 20;
const PACK_BUFFER = 4 << 20;
const MTIME = new Date(1000);

export interface WriteLayerOptions {
  /** Where the finished layer file goes (created if missing). */
  outDir: string;
  /** The directory that plays /nix/store when reading store paths; default /nix/store. */
  storeRoot?: string;
  /** Default gzip. */
  compression?: Compression;
  /** Compression level; default 6 for gzip, 3 for zstd. */
  level?: number;
  signal?: AbortSignal;
}

export interface WrittenLayer {
  /** The layer file, named `<hex of digest>.<writer id>.tar.gz` or `.tar.zst`: this writer's alone. */
  file: string;
  /** sha256 of the compressed bytes: the blob's name. */
  digest: string;
  /** sha256 of the uncompressed tar: the config's rootfs diff_id. */
  diffId: string;
  /** Compressed size in bytes. */
  size: number;
  /** OCI layer media type (a Docker manifest maps it with layerMediaType). */
  mediaType: string;
  compression: Compression;
}

/** A layer to write: store paths, or entries made up by the caller (the symlink forest). */
export type LayerInput =
  | { storePaths: readonly string[] }
  | { entries: Iterable<TarEntry> | AsyncIterable<TarEntry> };

/** Writes one layer holding the store paths `paths` (absolute, under /nix/store). */
export function writeLayer(paths: readonly string[], options: WriteLayerOptions): Promise<WrittenLayer> {
  return writeTarLayer(storePathEntries(paths, options.storeRoot), options);
}

/**
 * Writes layers, at most `parallel` (default: one per core) at a time; results in input
 * order. The first failure aborts the others and is thrown.
 */
export async function writeLayers(
  inputs: readonly LayerInput[],
  options: WriteLayerOptions & {
    parallel?: number;
    /**
     * Called as soon as each layer is written, so its upload can overlap the writing of the
     * rest; the file is then the callback's to remove, even when a later layer fails.
     */
    onWritten?: (layer: WrittenLayer, index: number) => void;
  },
): Promise<WrittenLayer[]> {
  const abort = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  const results: WrittenLayer[] = new Array(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length && !signal.aborted) {
      const i = next++;
      const input = inputs[i]!;
      const entries = "storePaths" in input ? storePathEntries(input.storePaths, options.storeRoot) : input.entries;
      const layer = await writeTarLayer(entries, { ...options, signal });
      results[i] = layer;
      options.onWritten?.(layer, i);
    }
  };
  const n = Math.max(1, Math.min(options.parallel ?? availableParallelism(), inputs.length));
  const failures: unknown[] = [];
  const runs = Array.from({ length: n }, () =>
    worker().catch((err: unknown) => {
      failures.push(err);
      abort.abort(err);
    }),
  );
  // Wait for every writer to stop (and clean up) before reporting the first failure.
  await Promise.all(runs);
  if (failures.length > 0 || signal.aborted) {
    // The layers finished before the failure are nobody's now (unless handed over): remove them.
    if (!options.onWritten) await Promise.all(results.map((r) => r && rm(r.file, { force: true })));
    if (failures.length > 0) throw failures[0];
    signal.throwIfAborted();
  }
  return results;
}

/** Writes one layer from entries already in tar order (see tar-entries.ts). */
export async function writeTarLayer(
  entries: Iterable<TarEntry> | AsyncIterable<TarEntry>,
  options: WriteLayerOptions,
): Promise<WrittenLayer> {
  const compression = options.compression ?? "gzip";
  const signal = options.signal;
  signal?.throwIfAborted();
  await mkdir(options.outDir, { recursive: true });
  const writer = randomUUID();
  const partial = join(options.outDir, `.partial-${writer}`);
  // A few MiB of tar buffered ahead lets file reads overlap compression instead of taking
  // turns with it (streamx's default is 16 KiB).
  const pack = tar.pack({ highWaterMark: PACK_BUFFER });
  const out = compression === "zstd" ? await zstdFile(partial, options.level ?? 3) : gzipFile(partial, options.level ?? 6);
  const diff = newDigester();
  fillPack(pack, entries, signal).catch((err: unknown) => pack.destroy(err as Error));
  try {
    await pipeline(
      async function* tarBytes() {
        for await (const chunk of pack as AsyncIterable<Buffer>) {
          diff.update(chunk);
          yield chunk;
        }
      },
      out.input,
      signal ? { signal } : {},
    );
    const { digest, size } = await out.done;
    const file = join(options.outDir, `${digestHex(digest)}.${writer}${compression === "gzip" ? ".tar.gz" : ".tar.zst"}`);
    await rename(partial, file);
    return { file, digest, diffId: digestOf(diff), size, mediaType: layerMediaType("oci", compression), compression };
  } catch (err) {
    pack.destroy();
    const own = await out.stop(); // the compressor no longer writes the file
    await rm(partial, { force: true });
    throw own ?? err;
  }
}

/** gzip in this process (parallel deflate), the compressed bytes hashed on their way to `file`. */
function gzipFile(file: string, level: number): CompressedFile {
  const gzip = new ParallelGzip({ level });
  const blob = newDigester();
  let size = 0;
  const written = pipeline(
    gzip,
    async function* compressedBytes(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        blob.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(file, { flags: "wx" }),
  );
  const done = written.then(() => ({ digest: digestOf(blob), size }));
  done.catch(() => {}); // reported to whoever awaits it
  const stop = async () => {
    gzip.destroy();
    await done.catch(() => {});
    return undefined;
  };
  return { input: gzip, done, stop };
}

type Pack = ReturnType<typeof tar.pack>;
type Sink = ReturnType<Pack["entry"]>;

/** Feeds entries into the tar packer, one at a time, honouring its backpressure. */
async function fillPack(pack: Pack, entries: Iterable<TarEntry> | AsyncIterable<TarEntry>, signal?: AbortSignal) {
  for await (const entry of entries) {
    signal?.throwIfAborted();
    const header: Partial<Header> & { name: string } = {
      name: entry.name,
      type: entry.type,
      mode: entry.mode,
      size: entry.type === "file" ? entry.size : 0,
      mtime: MTIME,
      uid: (entry.type === "directory" && entry.owner) || 0,
      gid: (entry.type === "directory" && entry.owner) || 0,
      uname: "",
      gname: "",
      ...(entry.type === "symlink" ? { linkname: entry.target } : {}),
    };
    let done!: Promise<void>;
    const sink = new Promise<Sink>((resolveSink) => {
      done = new Promise<void>((resolve, reject) => {
        resolveSink(pack.entry(header, (err) => (err ? reject(err) : resolve())));
      });
    });
    done.catch(() => {}); // awaited below; a failed copy must not leave it unhandled
    if (entry.type === "file") {
      const source = entry.source;
      if (typeof source === "string") await copyFile(source, entry.size, await sink);
      else (await sink).end(Buffer.from(source.buffer, source.byteOffset, source.byteLength));
    }
    await done;
  }
  pack.finalize();
}

/** Streams exactly `size` bytes of `source` into a tar entry, reading one chunk ahead. */
async function copyFile(source: string, size: number, sink: Sink): Promise<void> {
  const fd = await open(source, "r");
  const read = async (position: number): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(Math.min(READ_SIZE, size - position));
    const { bytesRead } = await fd.read(buf, 0, buf.length, position);
    if (bytesRead < buf.length) throw new Error(`${source} shrank while being written to a layer`);
    return buf;
  };
  let ahead: Promise<Buffer> | undefined = size > 0 ? read(0) : undefined;
  try {
    let position = 0;
    while (ahead) {
      const buf: Buffer = await ahead;
      position += buf.length;
      ahead = position < size ? read(position) : undefined;
      if (!sink.write(buf)) await drained(sink);
    }
    sink.end(undefined);
  } finally {
    await ahead?.catch(() => {});
    await fd.close();
  }
}

function drained(sink: Sink): Promise<void> {
  // A sink torn down already (the pipeline failed) sends no more events: waiting would leak the file.
  if (sink.destroyed || sink.destroying) return Promise.reject(new Error("tar entry closed while writing"));
  return new Promise((resolve, reject) => {
    const onDrain = () => (off(), resolve());
    const onClose = () => (off(), reject(new Error("tar entry closed while writing")));
    const off = () => {
      sink.off("drain", onDrain);
      sink.off("close", onClose);
    };
    sink.on("drain", onDrain);
    sink.on("close", onClose);
  });
}
