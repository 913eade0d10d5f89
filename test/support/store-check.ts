/**
 * Checks a filesystem store (builder/store/fs.ts) for what a crash or a failed write must
 * never leave visible: blobs whose bytes do not hash to their name, records or manifests
 * that point at blobs which are missing or of another size, and stray files under blobs/.
 * Temp files are allowed only in the store's temp folder (.tmp) and the pipeline's scratch
 * folder (work); they are listed so a test can insist they were cleaned up.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ImageRecord, LayerRecord } from "../../common/storage/layout.ts";

export interface StoreCheck {
  /** Everything wrong; empty for a sound store. */
  problems: string[];
  blobs: number;
  layerRecords: number;
  imageRecords: number;
  manifests: number;
  /** Files in the temp and scratch folders (relative to the root). */
  scratch: string[];
}

const HEX64 = /^[a-f0-9]{64}$/;
const MANIFEST_TYPES = new Set(["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"]);

export async function checkFsStore(root: string): Promise<StoreCheck> {
  const check: StoreCheck = { problems: [], blobs: 0, layerRecords: 0, imageRecords: 0, manifests: 0, scratch: [] };
  const sizes = await checkBlobs(root, check);
  const points = (what: string, d: { digest?: unknown; size?: unknown }) => {
    const have = typeof d.digest === "string" ? sizes.get(d.digest) : undefined;
    if (have === undefined) check.problems.push(`${what} points at a missing blob ${String(d.digest)}`);
    else if (have !== d.size) check.problems.push(`${what} says ${String(d.digest)} has ${String(d.size)} bytes, the blob has ${have}`);
  };
  for (const [name, record] of await records<LayerRecord>(root, "layers", check)) {
    check.layerRecords++;
    points(`layers/${name}`, record);
    if (typeof record.diffId !== "string" || !record.diffId.startsWith("sha256:")) check.problems.push(`layers/${name} has no diffId`);
  }
  for (const [name, record] of await records<ImageRecord>(root, "images", check)) {
    check.imageRecords++;
    for (const m of [record, ...(record.alternates ?? [])]) points(`images/${name}`, m);
  }
  // A manifest blob is written after every blob it names, so none may be missing.
  for (const digest of sizes.keys()) {
    const manifest = await manifestIn(join(root, "blobs/sha256", digest.slice(7)));
    if (!manifest) continue;
    check.manifests++;
    for (const d of [manifest.config, ...manifest.layers]) points(`manifest ${digest}`, d);
  }
  for (const dir of [".tmp", "work"]) {
    for (const f of await listFiles(join(root, dir))) check.scratch.push(join(dir, f));
  }
  return check;
}

/** Every blob re-hashed; anything else under blobs/ is a problem. Returns digest → size. */
async function checkBlobs(root: string, check: StoreCheck): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const f of await listFiles(join(root, "blobs"))) {
    const hex = f.startsWith("sha256/") ? f.slice(7) : "";
    if (!HEX64.test(hex)) {
      check.problems.push(`stray file under blobs/: ${f}`);
      continue;
    }
    const path = join(root, "blobs", f);
    const actual = await sha256File(path);
    if (actual !== hex) check.problems.push(`blob ${hex} hashes to ${actual}`);
    sizes.set(`sha256:${hex}`, (await stat(path)).size);
    check.blobs++;
  }
  return sizes;
}

async function records<T>(root: string, folder: string, check: StoreCheck): Promise<[string, Partial<T>][]> {
  const out: [string, Partial<T>][] = [];
  for (const f of await listFiles(join(root, folder))) {
    if (!f.endsWith(".json") || f.includes("/")) {
      check.problems.push(`stray file under ${folder}/: ${f}`);
      continue;
    }
    try {
      out.push([f, JSON.parse(await readFile(join(root, folder, f), "utf8")) as Partial<T>]);
    } catch (err) {
      check.problems.push(`${folder}/${f} is not JSON: ${(err as Error).message}`);
    }
  }
  return out;
}

interface Descriptor {
  digest?: unknown;
  size?: unknown;
}

/** The manifest in a blob, or null when the blob is something else (a layer, a config). */
async function manifestIn(path: string): Promise<{ config: Descriptor; layers: Descriptor[] } | null> {
  if ((await stat(path)).size > 1 << 20) return null;
  try {
    const m = JSON.parse(await readFile(path, "utf8")) as { mediaType?: string; config?: Descriptor; layers?: Descriptor[] };
    return m.mediaType && MANIFEST_TYPES.has(m.mediaType) && m.config && m.layers ? { config: m.config, layers: m.layers } : null;
  } catch {
    return null;
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (c) => hash.update(c))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Files (not folders) under `dir`, relative to it; none when it does not exist. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1))
    .sort();
}
