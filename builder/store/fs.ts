/**
 * The embedded default store: the layout of common/storage/layout.ts as files under one folder
 * (under a prefix inside it, when one is configured).
 *
 * Every write goes to a fresh file in <root>/.tmp/ (same filesystem), is fsynced, and is then
 * renamed onto its key, so a reader or a crash sees the whole object or nothing. Keys come
 * only from the layout (keys.ts), so nothing can be read or written outside the root. Failures
 * of the disk itself surface as StorageError (errors.ts); a bad key or range as its own error.
 */
import { randomUUID } from "node:crypto";
import { copyFile, link, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { dirname, join, resolve, sep } from "node:path";
import { layoutPrefix } from "../../common/storage/layout.ts";
import { removeStale } from "../sweep.ts";
import { onDisk } from "../../common/storage/errors.ts";
import { blobKeyOf, checkRange, InvalidKeyError, layoutKeyOf, RangeNotSatisfiableError, recordKeyOf } from "./keys.ts";
import type { BlobStore, ByteRange, ObjectStat } from "./types.ts";

/** Link errors after which a copy still works (another filesystem, no hard links there). */
const COPY_INSTEAD = new Set(["EXDEV", "EPERM", "EMLINK", "ENOTSUP", "EOPNOTSUPP"]);

export class FsBlobStore implements BlobStore {
  readonly root: string;
  /** Folders inside root that hold the layout ("" or "a/b/"). */
  readonly prefix: string;
  private readonly tmpDir: string;

  constructor(rootDir: string, prefix = "") {
    this.root = resolve(rootDir);
    this.prefix = layoutPrefix(prefix);
    this.tmpDir = join(this.root, ".tmp");
  }

  async statBlob(digest: string): Promise<ObjectStat | null> {
    const st = await statOrNull(this.pathOf(blobKeyOf(digest)));
    return st?.isFile() ? { size: st.size } : null;
  }

  async readBlob(digest: string, range?: ByteRange): Promise<Readable | null> {
    const path = this.pathOf(blobKeyOf(digest));
    checkRange(range);
    // Open first, then size the open file: no race with a concurrent replace.
    const handle = await onDisk(() => open(path, "r")).catch(nullIfAbsent);
    if (!handle) return null;
    try {
      const { size } = await onDisk(() => handle.stat());
      if (!range) return handle.createReadStream();
      if (range.start >= size) throw new RangeNotSatisfiableError(`range ${range.start}- of ${digest} (${size} bytes)`);
      return handle.createReadStream({ start: range.start, end: Math.min(range.end, size - 1) });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * Hard-links `file` into the store (copies it across filesystems); the caller keeps its
   * file but must not modify it in place afterwards, since with a link both names share it.
   */
  async putBlobFile(digest: string, file: string, _mediaType: string): Promise<void> {
    const key = blobKeyOf(digest);
    const source = await onDisk(() => stat(file));
    if (!source.isFile()) throw new Error(`putBlobFile ${digest}: ${file} is not a regular file`);
    if ((await this.statBlob(digest))?.size === source.size) return;
    await this.publish(key, async (tmp) => {
      await link(file, tmp).catch(async (err: NodeJS.ErrnoException) => {
        if (!COPY_INSTEAD.has(err.code ?? "")) throw err;
        await copyFile(file, tmp);
      });
      const handle = await open(tmp, "r");
      try {
        await handle.sync();
        const { size } = await handle.stat();
        if (size !== source.size) throw new Error(`putBlobFile ${digest}: wrote ${size} of ${source.size} bytes`);
      } finally {
        await handle.close();
      }
    });
  }

  async putBlobBytes(digest: string, bytes: Uint8Array, _mediaType: string): Promise<void> {
    const key = blobKeyOf(digest);
    if ((await this.statBlob(digest))?.size === bytes.byteLength) return;
    await this.writeAtomically(key, [bytes]);
  }

  async getRecord<T>(key: string): Promise<T | null> {
    const path = this.pathOf(recordKeyOf(key));
    const text = await onDisk(() => readFile(path, "utf8")).catch(nullIfAbsent);
    return text === null ? null : (JSON.parse(text) as T);
  }

  async putRecord(key: string, value: unknown): Promise<void> {
    const path = recordKeyOf(key);
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`putRecord ${key}: value is not JSON`);
    await this.writeAtomically(path, [new TextEncoder().encode(json)]);
  }

  /**
   * Writes the chunks of `source` to a temp file and renames it onto `key` once all of it is
   * on disk. A failing source or a crash midway leaves nothing under `key`.
   */
  async writeAtomically(key: string, source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    await this.publish(layoutKeyOf(key), async (tmp) => {
      const handle = await open(tmp, "wx", 0o644);
      try {
        for await (const chunk of source) await handle.write(chunk);
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  /**
   * Removes temp files older than `ageMs`: what writers that crashed midway left behind.
   * Returns how many were removed. Younger ones may belong to writes in progress.
   */
  async sweepTemp(ageMs = 3_600_000): Promise<number> {
    return onDisk(() => removeStale(this.tmpDir, ageMs));
  }


  /** Lets `fill` create the temp file, then renames it onto `key` and syncs the folder. */
  private async publish(key: string, fill: (tmp: string) => Promise<void>): Promise<void> {
    const final = this.pathOf(key);
    const tmp = join(this.tmpDir, randomUUID());
    await onDisk(async () => {
      await mkdir(this.tmpDir, { recursive: true });
      try {
        await fill(tmp);
        await mkdir(dirname(final), { recursive: true });
        await rename(tmp, final);
      } finally {
        // Also after a rename: when tmp and final are links to one file (two puts linking the
        // same source), rename() succeeds without removing tmp.
        await rm(tmp, { force: true });
      }
      await syncDir(dirname(final));
    });
  }

  /** The file of a layout key; a second guard on top of the key checks. */
  private pathOf(key: string): string {
    const path = resolve(this.root, this.prefix + key);
    if (!path.startsWith(this.root + sep) || key.includes("\0")) {
      throw new InvalidKeyError(`key escapes the store: ${JSON.stringify(key)}`);
    }
    return path;
  }
}

/** Makes a rename durable: the folder's entry is on disk, not just the file's bytes. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function statOrNull(path: string) {
  return onDisk(() => stat(path)).catch(nullIfAbsent);
}

/** Null for a missing file; any other failure (a StorageError, a bug) goes on. */
function nullIfAbsent(err: { code?: string }): null {
  if (err.code === "ENOENT" || err.code === "ENOTDIR") return null;
  throw err;
}
