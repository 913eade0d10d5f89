/**
 * Writes the binary cache for an image's closure: per store path, its NAR (`nix-store --dump`,
 * hashed as it streams into zstd) as a content-addressed blob, then its signed narinfo record
 * (nix-cache/<hash>.json), so a reader never finds a narinfo whose NAR is missing. Paths whose
 * narinfo is already stored are skipped without reading the Nix store.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { CACHE_PUBLIC_KEY_KEY, narInfoRecordKey } from "../../common/storage/layout.ts";
import { fingerprint, narURL, nix32, type CachePublicKeyRecord, type NarInfoRecord } from "../../common/nix-cache/narinfo.ts";
import type { StorePathInfo } from "../nix/graph.ts";
import { digestHex, newDigester } from "../image/digest.ts";
import { zstdFile } from "../image-io/zstd-pipe.ts";
import type { BlobStore } from "../store/types.ts";
import type { SigningKey } from "./signing-key.ts";

export const NAR_MEDIA_TYPE = "application/x-nix-nar";

export interface NarCacheDeps {
  store: BlobStore;
  key: SigningKey;
  /** Scratch folder for NAR files before upload. */
  workDir: string;
  /** The nix-store binary (tests point it elsewhere). */
  nixStore?: string;
}

export interface NarCache {
  /** Writes what is missing of `paths`' cache entries; returns how many were written. */
  write(paths: readonly StorePathInfo[], signal?: AbortSignal): Promise<number>;
}

export function narCache(deps: NarCacheDeps): NarCache {
  // Single flight per store path: concurrent builds sharing paths upload each NAR once.
  const inFlight = new Map<string, Promise<boolean>>();
  const writeOne = async (info: StorePathInfo, signal?: AbortSignal): Promise<boolean> => {
    const key = narInfoRecordKey(storeHashOf(info.path));
    if (await deps.store.getRecord<NarInfoRecord>(key)) return false;
    await deps.store.putRecord(key, await writeNar(deps, info, signal));
    return true;
  };
  return {
    async write(paths, signal) {
      let written = 0;
      // One at a time: zstd -T0 already keeps the cores busy.
      for (const info of paths) {
        signal?.throwIfAborted();
        const joined = inFlight.get(info.path);
        if (joined) {
          // The other build's failure is its own: this one tries again itself.
          if (await joined.catch(() => false)) continue;
          if (await deps.store.getRecord(narInfoRecordKey(storeHashOf(info.path)))) continue;
        }
        const flight = writeOne(info, signal);
        inFlight.set(info.path, flight);
        try {
          if (await flight) written++;
        } finally {
          if (inFlight.get(info.path) === flight) inFlight.delete(info.path);
        }
      }
      return written;
    },
  };
}

/** Stores the public key where every reader of the store finds it (the Worker has no key file). */
export async function publishPublicKey(store: BlobStore, key: SigningKey): Promise<void> {
  const stored = await store.getRecord<CachePublicKeyRecord>(CACHE_PUBLIC_KEY_KEY);
  if (stored?.publicKey !== key.publicKey) await store.putRecord(CACHE_PUBLIC_KEY_KEY, { publicKey: key.publicKey } satisfies CachePublicKeyRecord);
}

export function storeHashOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1, path.lastIndexOf("/") + 33);
}

/** Dumps, compresses and stores one path's NAR; returns its signed narinfo record. */
async function writeNar(deps: NarCacheDeps, info: StorePathInfo, signal?: AbortSignal): Promise<NarInfoRecord> {
  const file = join(deps.workDir, `nar-${randomUUID()}.zst`);
  try {
    const { narHash, narSize, file: compressed } = await dumpCompressed(deps.nixStore ?? "nix-store", info.path, file, signal);
    if (narSize !== info.narSize) throw new Error(`NAR of ${info.path}: ${narSize} bytes, Nix says ${info.narSize}`);
    await deps.store.putBlobFile(compressed.digest, file, NAR_MEDIA_TYPE);
    const hex = digestHex(compressed.digest);
    const unsigned = {
      storePath: info.path,
      url: narURL(hex),
      compression: "zstd" as const,
      fileHash: `sha256:${nix32(Buffer.from(hex, "hex"))}`,
      fileSize: compressed.size,
      narHash,
      narSize,
      references: [...info.references].sort(),
    };
    return { ...unsigned, sig: deps.key.sign(fingerprint(unsigned)) };
  } finally {
    await rm(file, { force: true });
  }
}

/** `nix-store --dump path | zstd > file`, hashing the NAR on its way through. */
async function dumpCompressed(nixStore: string, path: string, file: string, signal?: AbortSignal) {
  const out = await zstdFile(file, 3);
  const child = spawn(nixStore, ["--dump", path], { stdio: ["ignore", "pipe", "pipe"], signal });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-2000)));
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`nix-store --dump ${path} exited with ${code}: ${stderr.trim()}`))));
  });
  const hash = newDigester();
  let narSize = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      narSize += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await Promise.all([pipeline(child.stdout, tap, out.input), exited]);
  } catch (err) {
    throw (await out.stop()) ?? err;
  }
  const compressed = await out.done;
  return { narHash: `sha256:${nix32(hash.digest())}`, narSize, file: compressed };
}
