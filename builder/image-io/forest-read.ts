/**
 * The I/O around the symlink forest: reading package outputs' directory listings (only as
 * deep as merging needs), turning a plan into tar entries, and probing what the image holds
 * (a shell, a CA bundle) for its config.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  FOREST_DIRS,
  missingListings,
  planForest,
  resolveInForest,
  type ForestEntry,
  type ListingNode,
  type PackageListing,
} from "../image/forest.ts";
import { sortEntries, STORE_DIR, storePathBase, type TarEntry } from "./tar-entries.ts";

const CA_BUNDLE = "/etc/ssl/certs/ca-bundle.crt";
const SHELLS = ["/bin/bash", "/bin/sh"];

async function list(dir: string): Promise<Map<string, ListingNode>> {
  const children = new Map<string, ListingNode>();
  // An output can be a single file (a script, a text): it adds nothing to the forest.
  const dirents = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOTDIR") return [];
    throw err;
  });
  for (const d of dirents) {
    const kind = d.isDirectory() ? "directory" : d.isSymbolicLink() ? "symlink" : "file";
    children.set(d.name, { kind });
  }
  return children;
}

function nodeAt(root: ListingNode, path: string): ListingNode | undefined {
  let node: ListingNode | undefined = root;
  for (const part of path ? path.split("/") : []) node = node?.children?.get(part);
  return node;
}

/** Lists the outputs (store paths, request order) as deep as the forest plan needs. */
export async function readListings(outputs: readonly string[], storeRoot = STORE_DIR): Promise<PackageListing[]> {
  const listings = [...new Set(outputs)].map((output) => ({ output, root: { kind: "directory" } as ListingNode }));
  for (let requests = missingListings(listings); requests.length > 0; requests = missingListings(listings)) {
    for (const { output, path } of requests) {
      const listing = listings.find((l) => l.output === output)!;
      const node = nodeAt(listing.root, path)!;
      const children = await list(join(storeRoot, storePathBase(output), path));
      // At the top only the forest's directories matter; the rest need not be remembered.
      if (path === "") for (const name of children.keys()) if (!(FOREST_DIRS as readonly string[]).includes(name)) children.delete(name);
      node.children = children;
    }
  }
  return listings;
}

/** Reads the listings and plans the forest of the requested packages' outputs. */
export async function planForestFromStore(outputs: readonly string[], storeRoot = STORE_DIR): Promise<ForestEntry[]> {
  return planForest(await readListings(outputs, storeRoot));
}

/** The forest as tar entries, in tar order (symlinks 0777, as Linux reports them). */
export function forestTarEntries(entries: readonly ForestEntry[]): TarEntry[] {
  return sortEntries(
    entries.map((e): TarEntry => {
      if (e.type === "directory") return { type: "directory", name: e.path + "/", mode: e.mode, ...(e.owner ? { owner: e.owner } : {}) };
      if (e.type === "file") return { type: "file", name: e.path, mode: e.mode, size: e.content.length, source: e.content };
      return { type: "symlink", name: e.path, mode: 0o777, target: e.target };
    }),
  );
}

/** What the image config needs to know of the image's contents. */
export interface ImageFacts {
  /** Absolute path of a shell in the image, if any (bash preferred). */
  shell?: string;
  /** Whether /etc/ssl/certs/ca-bundle.crt exists in the image. */
  caBundle: boolean;
}

/** Whether an image path resolves (through the forest) to something that exists. */
async function existsInImage(entries: readonly ForestEntry[], imagePath: string, storeRoot: string): Promise<boolean> {
  const found = resolveInForest(entries, imagePath);
  if (!found) return false;
  const storePath = "storePath" in found ? found.storePath : found.entry.type === "symlink" ? found.entry.target : null;
  if (storePath === null) return false;
  if (!storePath.startsWith(STORE_DIR + "/")) return false;
  const rest = storePath.slice(STORE_DIR.length + 1);
  return stat(join(storeRoot, rest)).then(
    (st) => st.isFile(),
    () => false,
  );
}

export async function probeImage(entries: readonly ForestEntry[], storeRoot = STORE_DIR): Promise<ImageFacts> {
  let shell: string | undefined;
  for (const candidate of SHELLS) {
    if (await existsInImage(entries, candidate, storeRoot)) {
      shell = candidate;
      break;
    }
  }
  return { ...(shell ? { shell } : {}), caBundle: await existsInImage(entries, CA_BUNDLE, storeRoot) };
}
