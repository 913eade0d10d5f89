/**
 * What goes into a layer tar, in the order it goes in. Entry names are relative (no leading
 * slash, as layer tars conventionally are), directories end in "/", and entries come in
 * byte order of their names. Ending directory names in "/" makes a depth-first walk that
 * sorts each directory's children by that name yield exactly the global byte order
 * ("x-y" < "x/" < "x/a"), so a store path is streamed without listing it whole first.
 */
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

export type TarEntry =
  /** `owner`: uid and gid when not 0 (only made-up entries have one; store paths are root's). */
  | { type: "directory"; name: string; mode: number; owner?: number }
  | { type: "symlink"; name: string; mode: number; target: string }
  /** `source` is the file on disk whose bytes become the entry's content, or the bytes themselves. */
  | { type: "file"; name: string; mode: number; size: number; source: string | Uint8Array };

export const STORE_DIR = "/nix/store";

/** Byte-order comparison of two entry names (UTF-8, not UTF-16 code units). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Sorts entries into tar order in place, and returns them. */
export function sortEntries<T extends { name: string }>(entries: T[]): T[] {
  const keyed = entries.map((e) => ({ e, key: Buffer.from(e.name) }));
  keyed.sort((x, y) => Buffer.compare(x.key, y.key));
  keyed.forEach((k, i) => (entries[i] = k.e));
  return entries;
}

/** The name of a store path under the store dir: `/nix/store/abc-x` → `abc-x`. */
export function storePathBase(path: string): string {
  const base = path.startsWith(STORE_DIR + "/") ? path.slice(STORE_DIR.length + 1) : "";
  if (!base || base.includes("/") || base === "." || base === "..") {
    throw new Error(`not a store path: ${JSON.stringify(path)}`);
  }
  return base;
}

interface Child {
  name: string;
  isDir: boolean;
}

/** Children in tar order: a directory sorts as its name plus "/". */
function sortChildren(children: Child[]): Child[] {
  const keyed = children.map((c) => ({ c, key: Buffer.from(c.isDir ? c.name + "/" : c.name) }));
  keyed.sort((x, y) => Buffer.compare(x.key, y.key));
  return keyed.map((k) => k.c);
}

/**
 * The entries of a layer holding `paths` (absolute store paths), read from `storeRoot`
 * (the directory that plays /nix/store; tests use a temp dir). Starts with `nix/` and
 * `nix/store/`. Hard links become regular files; devices, sockets and fifos are skipped
 * (a NAR cannot hold them).
 */
export async function* storePathEntries(paths: readonly string[], storeRoot = STORE_DIR): AsyncGenerator<TarEntry> {
  yield { type: "directory", name: "nix/", mode: 0o755 };
  yield { type: "directory", name: "nix/store/", mode: 0o755 };
  const bases = [...new Set(paths.map(storePathBase))];
  const tops: Child[] = [];
  for (const name of bases) tops.push({ name, isDir: (await lstat(join(storeRoot, name))).isDirectory() });
  for (const top of sortChildren(tops)) {
    yield* walk(join(storeRoot, top.name), `nix/store/${top.name}`);
  }
}

async function* walk(disk: string, name: string): AsyncGenerator<TarEntry> {
  const st = await lstat(disk);
  const mode = st.mode & 0o7777;
  if (st.isDirectory()) {
    yield { type: "directory", name: name + "/", mode };
    const dirents = await readdir(disk, { withFileTypes: true });
    const children = sortChildren(dirents.map((d) => ({ name: d.name, isDir: d.isDirectory() })));
    for (const child of children) yield* walk(join(disk, child.name), `${name}/${child.name}`);
  } else if (st.isSymbolicLink()) {
    yield { type: "symlink", name, mode, target: await readlink(disk) };
  } else if (st.isFile()) {
    yield { type: "file", name, mode, size: st.size, source: disk };
  }
}
