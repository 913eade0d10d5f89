/**
 * A deterministic stand-in for a closure of store paths, for the `write` benchmark: about
 * 560 MB in 48 store paths (big "binaries", mid-size "libraries", small docs, symlinks),
 * compressible like real binaries (gzip -6 ratio ≈ 3). Made once in the suite's scratch
 * folder and reused; a marker file says the tree is complete and of this version.
 */
import { existsSync } from "node:fs";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { prngUint32 as prng } from "../support/prng.ts";

const VERSION = "v1";
const PACKAGES = 48;


const WORDS = (() => {
  const next = prng(7);
  const alphabet = "abcdefghijklmnopqrstuvwxyz_";
  return Array.from({ length: 512 }, () => {
    let w = "";
    for (let n = 3 + (next() % 9); n > 0; n--) w += alphabet[next() % alphabet.length];
    return Buffer.from(w + (next() % 8 === 0 ? "\n" : " "));
  });
})();

/** Fills `buf` with a mix of text, low-entropy "machine code" and random bytes. */
function fill(buf: Buffer, next: () => number): void {
  let i = 0;
  while (i < buf.length) {
    const len = Math.min(buf.length - i, 256 + (next() % 4096));
    const kind = next() % 10;
    if (kind < 6) {
      for (let end = i + len; i < end; ) {
        const w = WORDS[next() % WORDS.length]!;
        i += w.copy(buf, i, 0, Math.min(w.length, end - i));
      }
    } else if (kind < 9) {
      for (let end = i + len; i < end; i++) buf[i] = (next() & 3) === 0 ? 0 : (next() & 3) * 85;
    } else {
      for (let end = i + len; i < end; i++) buf[i] = next() & 0xff;
    }
  }
}

async function writeFileOf(path: string, size: number, next: () => number, mode: number): Promise<void> {
  const buf = Buffer.allocUnsafe(size);
  fill(buf, next);
  await writeFile(path, buf, { mode });
}

function hashName(next: () => number): string {
  const chars = "0123456789abcdfghijklmnpqrsvwxyz";
  let s = "";
  for (let i = 0; i < 32; i++) s += chars[next() % 32];
  return s;
}

/** Creates (once) the tree of `packages` store paths; returns its store root and the store paths. */
export async function benchTree(root: string, packages = PACKAGES): Promise<{ storeRoot: string; storePaths: string[] }> {
  const storeRoot = join(root, "store");
  const marker = join(root, `complete-${VERSION}-${packages}`);
  const next = prng(42);
  const names = Array.from({ length: packages }, (_, i) => `${hashName(next)}-pkg${i}-1.0`);
  const storePaths = names.map((n) => `/nix/store/${n}`);
  if (existsSync(marker)) return { storeRoot, storePaths };
  await rm(root, { recursive: true, force: true });
  for (const name of names) await writePackage(join(storeRoot, name), next);
  await writeFile(marker, "");
  return { storeRoot, storePaths };
}

async function writePackage(dir: string, next: () => number): Promise<void> {
  for (const sub of ["bin", "lib", "share/doc"]) await mkdir(join(dir, sub), { recursive: true });
  for (let i = 0; i < 2; i++) await writeFileOf(join(dir, "bin", `tool${i}`), 2_000_000 + (next() % 4_000_000), next, 0o555);
  for (let i = 0; i < 4; i++) await writeFileOf(join(dir, "lib", `libx${i}.so.1`), 300_000 + (next() % 1_500_000), next, 0o444);
  for (let i = 0; i < 40; i++) await writeFileOf(join(dir, "share/doc", `page${i}.txt`), 500 + (next() % 30_000), next, 0o444);
  await symlink("libx0.so.1", join(dir, "lib", "libx0.so"));
}
