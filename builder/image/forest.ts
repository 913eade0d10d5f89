/**
 * The symlink forest, planned: from directory listings of the requested packages' outputs
 * to the entries of the layer that makes them usable at /bin, /lib, /share, /etc, …
 * Pure: the listings are read by forest-read.ts.
 *
 * Each top-level directory in FOREST_DIRS becomes a real directory whose children link into
 * the packages. Below that, merging is lazy (as Nix's buildEnv does): a name one package
 * provides is one symlink, even for a directory; a directory that several packages provide
 * becomes a real directory, merged one level further down. On any other clash the first
 * package in request order wins.
 */

export const FOREST_DIRS = ["bin", "etc", "include", "lib", "libexec", "sbin", "share"] as const;

/** One directory's children; `children` of a directory absent = not read yet. */
export interface ListingNode {
  kind: "directory" | "file" | "symlink";
  children?: Map<string, ListingNode>;
}

/** A package output (store path) and what is known of its tree (root = the output dir). */
export interface PackageListing {
  output: string;
  root: ListingNode;
}

/** A forest entry; `path` is relative to the image root, without a trailing slash. */
export type ForestEntry =
  /** `owner`: uid and gid, when not root (a home directory). */
  | { type: "directory"; path: string; mode: number; owner?: number }
  | { type: "symlink"; path: string; target: string }
  /** A small file made up by nixport (see base-system.ts). */
  | { type: "file"; path: string; mode: number; content: Uint8Array };

/** A directory the planner needs listed before it can finish. */
export interface ListingRequest {
  output: string;
  /** Path inside the output, e.g. `share/man`. */
  path: string;
}

const DIR_MODE = 0o755;
const TMP_MODE = 0o1777;

interface Provider {
  output: string;
  node: ListingNode;
}

/** Walks the merge: emits entries, and asks for listings it lacks. */
function merge(listings: readonly PackageListing[]): { entries: ForestEntry[]; missing: ListingRequest[] } {
  const entries: ForestEntry[] = [];
  const missing: ListingRequest[] = [];
  const mergeDir = (path: string, providers: Provider[]) => {
    const names = new Map<string, Provider[]>();
    for (const p of providers) {
      if (!p.node.children) {
        missing.push({ output: p.output, path });
        continue;
      }
      for (const [name, node] of p.node.children) {
        const list = names.get(name) ?? [];
        list.push({ output: p.output, node });
        names.set(name, list);
      }
    }
    for (const [name, candidates] of names) {
      const childPath = `${path}/${name}`;
      const winner = candidates[0]!;
      const dirs = candidates.filter((c) => c.node.kind === "directory");
      if (winner.node.kind === "directory" && dirs.length > 1) {
        entries.push({ type: "directory", path: childPath, mode: DIR_MODE });
        mergeDir(childPath, dirs);
      } else {
        entries.push({ type: "symlink", path: childPath, target: `${winner.output}/${childPath}` });
      }
    }
  };
  for (const dir of FOREST_DIRS) {
    const providers: Provider[] = [];
    for (const l of listings) {
      const node = l.root.children?.get(dir);
      if (!l.root.children) missing.push({ output: l.output, path: "" });
      else if (node?.kind === "directory") providers.push({ output: l.output, node });
    }
    if (providers.length === 0) continue;
    entries.push({ type: "directory", path: dir, mode: DIR_MODE });
    mergeDir(dir, providers);
  }
  return { entries, missing };
}

/** Directories still to list before {@link planForest} can answer; empty when done. */
export function missingListings(listings: readonly PackageListing[]): ListingRequest[] {
  const seen = new Set<string>();
  return merge(listings).missing.filter((r) => {
    const key = `${r.output}\0${r.path}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/**
 * The forest's entries, in no particular order (the layer writer sorts them): merged
 * package directories, `/tmp` (1777), and `/usr/bin/env` when an `env` is in `/bin`.
 * Throws when a listing it needs is missing (see {@link missingListings}).
 */
export function planForest(listings: readonly PackageListing[]): ForestEntry[] {
  const { entries, missing } = merge(listings);
  if (missing.length > 0) throw new Error(`forest plan needs listings of ${missing.map((m) => `${m.output}/${m.path}`).join(", ")}`);
  entries.push({ type: "directory", path: "tmp", mode: TMP_MODE });
  const env = entries.find((e) => e.path === "bin/env");
  if (env?.type === "symlink") {
    entries.push({ type: "directory", path: "usr", mode: DIR_MODE });
    entries.push({ type: "directory", path: "usr/bin", mode: DIR_MODE });
    entries.push({ type: "symlink", path: "usr/bin/env", target: env.target });
  }
  return entries;
}

/**
 * Where an absolute image path lands through the forest: the forest entry itself, or the
 * store path reached through a symlink on the way (`/etc/ssl/certs/x` through
 * `etc/ssl → /nix/store/…/etc/ssl` is `/nix/store/…/etc/ssl/certs/x`). Null when no
 * forest entry leads there.
 */
export function resolveInForest(entries: readonly ForestEntry[], imagePath: string): { entry: ForestEntry } | { storePath: string } | null {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const parts = imagePath.replace(/^\/+/, "").split("/");
  for (let i = 1; i <= parts.length; i++) {
    const entry = byPath.get(parts.slice(0, i).join("/"));
    if (!entry) return null;
    if (i === parts.length) return { entry };
    if (entry.type === "symlink") return { storePath: [entry.target, ...parts.slice(i)].join("/") };
  }
  return null;
}
