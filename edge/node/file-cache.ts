/**
 * Tag → manifest cache in files, so the all-in-one server remembers tags across restarts:
 * <dir>/<sha256 of the key>.json holding the entry and when it may be dropped.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { retentionSeconds, type TagCache, type TagEntry } from "../cache.ts";

interface Stored {
  key: string;
  dropAt: number | null;
  entry: TagEntry;
}

export class FileTagCache implements TagCache {
  constructor(
    private readonly dir: string,
    private readonly staleSeconds = 86_400,
    private readonly now: () => number = Date.now,
  ) {}

  private file(key: string): string {
    return join(this.dir, `${createHash("sha256").update(key).digest("hex")}.json`);
  }

  async get(key: string): Promise<TagEntry | null> {
    let stored: Stored;
    try {
      stored = JSON.parse(await readFile(this.file(key), "utf8")) as Stored;
    } catch {
      return null; // missing or torn: a miss either way
    }
    return stored.key === key && (stored.dropAt === null || stored.dropAt > this.now()) ? stored.entry : null;
  }

  async put(key: string, entry: TagEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const keep = retentionSeconds(entry, this.now(), this.staleSeconds);
    // JSON has no Infinity: a dropAt of null means never.
    const stored: Stored = { key, entry, dropAt: keep === null ? null : this.now() + keep * 1000 };
    // Write then rename, so a reader never sees half a file.
    const tmp = `${this.file(key)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify(stored));
    await rename(tmp, this.file(key));
  }
}
