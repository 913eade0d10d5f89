import { spawn } from "node:child_process";
import { mkdir, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../nix/run.ts";

export interface CheckoutsOptions {
  /** Unused checkouts kept at most (the least recently used beyond are removed). */
  keep: number;
  /** Bytes unused checkouts may take together. */
  budgetBytes: number;
  env: NodeJS.ProcessEnv;
}

/** A checkout in use; `release()` once nothing reads it any more. */
export interface CheckoutLease {
  dir: string;
  release(): void;
}

interface Entry {
  leases: number;
  /** When last used, as a count of uses (clock time can tie within a millisecond). */
  lastUsed: number;
  bytes: number;
}

/**
 * Read-only checkouts of a mirror's commits, one folder per commit. Unused ones are removed
 * least recently used first beyond a count or a disk budget; one a build holds a lease on
 * (Nix reads it while evaluating and building) is never removed. Leases are this process's:
 * builder processes sharing one data folder should each have their own.
 */
export class Checkouts {
  private readonly entries = new Map<string, Entry>();
  private readonly making = new Map<string, Promise<void>>();
  private scanned: Promise<void> | undefined;
  private uses = 0;
  /** Removals run one at a time, after the releases that asked for them. */
  private evicting: Promise<void> = Promise.resolve();

  constructor(private readonly root: string, private readonly mirror: string, private readonly o: CheckoutsOptions) {}

  async lease(commit: string, signal?: AbortSignal): Promise<CheckoutLease> {
    await (this.scanned ??= this.scan());
    const dir = join(this.root, commit);
    const entry = this.entries.get(commit) ?? { leases: 0, lastUsed: 0, bytes: 0 };
    entry.leases++;
    this.entries.set(commit, entry);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      entry.leases--;
      entry.lastUsed = ++this.uses;
      void this.evict().catch(() => {}); // a checkout that cannot be removed now is tried again at the next removal

    };
    try {
      if (!entry.bytes) {
        let making = this.making.get(commit);
        if (!making) {
          making = this.make(commit, dir, entry, signal).finally(() => this.making.delete(commit));
          this.making.set(commit, making);
        }
        await making;
      }
      entry.lastUsed = ++this.uses;
      await utimes(dir, new Date(), new Date()).catch(() => {}); // the order survives a restart
      await this.evict();
      return { dir, release };
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Checked-out commits, for tests and housekeeping. */
  list(): string[] {
    return [...this.entries.keys()];
  }

  /** Resolves once the removals asked for so far are done. */
  settled(): Promise<void> {
    return this.evicting.catch(() => {});
  }

  private async make(commit: string, dir: string, entry: Entry, signal?: AbortSignal): Promise<void> {
    await this.settled(); // a removal of this very commit may be under way: let it finish first
    if (await stat(dir).then(() => true, () => false)) {
      entry.bytes = await diskBytes(dir);
      return;
    }
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(tmp, { recursive: true });
    try {
      entry.bytes = Math.max(1, await extract(this.mirror, commit, tmp, this.o.env, signal));
      await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
        // Another builder process checked the same commit out first: theirs is as good as ours.
        if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Checkouts a previous run left, in the order of their last use (their folders' mtimes). */
  private async scan(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const found: { name: string; mtimeMs: number; bytes: number }[] = [];
    for (const name of await readdir(this.root)) {
      const dir = join(this.root, name);
      if (name.includes(".tmp-")) {
        await rm(dir, { recursive: true, force: true }); // a crashed checkout
        continue;
      }
      const s = await stat(dir).catch(() => null);
      if (s?.isDirectory()) found.push({ name, mtimeMs: s.mtimeMs, bytes: await diskBytes(dir) });
    }
    for (const f of found.sort((a, b) => a.mtimeMs - b.mtimeMs)) this.entries.set(f.name, { leases: 0, lastUsed: ++this.uses, bytes: f.bytes });
  }

  private evict(): Promise<void> {
    const next = this.evicting.catch(() => {}).then(() => this.evictNow());
    this.evicting = next;
    return next;
  }

  private async evictNow(): Promise<void> {
    const unused = [...this.entries].filter(([, e]) => e.leases === 0 && e.bytes > 0).sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    let bytes = unused.reduce((n, [, e]) => n + e.bytes, 0);
    let count = unused.length;
    for (const [commit, e] of unused) {
      if (count <= this.o.keep && bytes <= this.o.budgetBytes) break;
      this.entries.delete(commit);
      count--;
      bytes -= e.bytes;
      await rm(join(this.root, commit), { recursive: true, force: true });
    }
  }
}

/** Bytes a folder takes on disk (`du`), for checkouts found at start. */
async function diskBytes(dir: string): Promise<number> {
  const r = await run("du", ["-sk", dir]);
  return Math.max(1, Number(/^\d+/.exec(r.stdout)?.[0] ?? 0) * 1024);
}

/** `git archive COMMIT | tar -x -C dir`, without a shell; returns the archive's size in bytes. */
function extract(mirror: string, commit: string, dir: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const archive = spawn("git", ["--git-dir", mirror, "archive", "--format=tar", commit], { stdio: ["ignore", "pipe", "pipe"], signal, env });
    const tar = spawn("tar", ["-x", "-C", dir], { stdio: ["pipe", "ignore", "pipe"], signal, env });
    let bytes = 0;
    archive.stdout.on("data", (b: Buffer) => (bytes += b.length));
    archive.stdout.pipe(tar.stdin);
    let left = 2;
    let failed = false;
    const done = (code: number | null) => {
      if (code !== 0) failed = true;
      // The message names no path and carries no stderr: it may reach a client.
      if (--left === 0) failed ? reject(new Error(`checkout of ${commit} failed`)) : resolve(bytes);
    };
    archive.on("close", done);
    tar.on("close", done);
    archive.on("error", reject);
    tar.on("error", reject);
  });
}
