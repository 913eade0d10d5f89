/**
 * The Nix binary cache's records, shared by the builder (writer) and the edge (reader):
 * what a narinfo holds, the text Nix reads, and the checks on the names clients ask for.
 * Nix's own formats: a store path's hash part is 32 characters of Nix's base32 alphabet;
 * a narinfo is "Key: value" lines.
 */

/** Nix's base32 alphabet (no e, o, u, t). */
const NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";
export { isStoreHash } from "../storage/layout.ts";

/** Nix's base32 of `bytes` (least significant 5 bits last, as `nix hash to-base32` prints). */
export function nix32(bytes: Uint8Array): string {
  const len = Math.ceil((bytes.length * 8) / 5);
  let out = "";
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    const c = ((bytes[i] ?? 0) >> j) | (j > 3 && i + 1 < bytes.length ? (bytes[i + 1]! << (8 - j)) & 0xff : 0);
    out += NIX32[c & 0x1f];
  }
  return out;
}

/** What the builder writes for one store path (nix-cache/<hash>.json), everything the narinfo says. */
export interface NarInfoRecord {
  storePath: string;
  /** The NAR file's name, relative to the cache's root: nar/<sha256 hex of the file>.nar.zst. */
  url: string;
  compression: "zstd";
  /** `sha256:<nix32>` of the compressed file. */
  fileHash: string;
  fileSize: number;
  /** `sha256:<nix32>` of the uncompressed NAR. */
  narHash: string;
  narSize: number;
  /** Store paths this path references (full paths, sorted). */
  references: string[];
  /** The derivation's store path, when known. */
  deriver?: string;
  /** `<key name>:<base64 ed25519 signature>` of the fingerprint. */
  sig: string;
}

const NAR_URL_RE = /^nar\/([a-f0-9]{64})\.nar\.zst$/;

/** The NAR file name of a stored blob (its sha256 hex). */
export function narURL(hex: string): string {
  return `nar/${hex}.nar.zst`;
}

/** The blob digest a NAR URL (relative, e.g. from the edge's path) names; null when it is no NAR URL. */
export function narDigestOf(url: string): string | null {
  const m = NAR_URL_RE.exec(url);
  return m ? `sha256:${m[1]}` : null;
}

/** What Nix signs: "1;<store path>;<nar hash>;<nar size>;<references, comma-separated>". */
export function fingerprint(r: Pick<NarInfoRecord, "storePath" | "narHash" | "narSize" | "references">): string {
  return `1;${r.storePath};${r.narHash};${r.narSize};${r.references.join(",")}`;
}

/** The narinfo text Nix reads. References and Deriver are base names, as Nix writes them. */
export function renderNarInfo(r: NarInfoRecord): string {
  const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);
  const lines = [
    `StorePath: ${r.storePath}`,
    `URL: ${r.url}`,
    `Compression: ${r.compression}`,
    `FileHash: ${r.fileHash}`,
    `FileSize: ${r.fileSize}`,
    `NarHash: ${r.narHash}`,
    `NarSize: ${r.narSize}`,
    `References: ${r.references.map(base).join(" ")}`,
    ...(r.deriver ? [`Deriver: ${base(r.deriver)}`] : []),
    `Sig: ${r.sig}`,
  ];
  return lines.join("\n") + "\n";
}

/** /nix-cache-info: this cache serves /nix/store paths, may be asked in bulk, after cache.nixos.org (40). */
export const NIX_CACHE_INFO = "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n";

/** What the builder stores of its signing key for readers: the public half, `name:base64`. */
export interface CachePublicKeyRecord {
  publicKey: string;
}
