/**
 * Leftovers of a crash: scratch layer files and half-written store temps whose writer died
 * (SIGKILL, power loss) and so never removed them. They are invisible to readers (nothing is
 * published until renamed or uploaded whole) but take disk; the builder sweeps them at start
 * and then periodically. Only entries untouched for `ageMs` go: younger ones may belong to a
 * write in progress, in this process or another sharing the folder.
 */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** Removes the entries of `dir` (files or folders) last modified at least `ageMs` ago; returns how many. */
export async function removeStale(dir: string, ageMs: number, now: number = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => null);
    if (st && now - st.mtimeMs >= ageMs) {
      await rm(path, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
