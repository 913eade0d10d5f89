/** Nix's spellings of a sha256 hash, read back into lowercase hex (what SPDX and in-toto want). Pure. */

/** Nix's base32 alphabet (no e, o, u, t). */
const BASE32 = "0123456789abcdfghijklmnpqrsvwxyz";
const SHA256_BYTES = 32;

/**
 * The hex of a sha256 as `nix path-info` prints it: SRI (`sha256-<base64>`, Nix ≥ 2.4),
 * `sha256:<base32>` (older Nix) or `sha256:<hex>`. Null for anything else.
 */
export function sha256Hex(hash: string): string | null {
  let bytes: Uint8Array | null = null;
  if (hash.startsWith("sha256-")) bytes = fromBase64(hash.slice(7));
  else if (hash.startsWith("sha256:")) {
    const body = hash.slice(7);
    if (/^[0-9a-f]{64}$/.test(body)) return body;
    bytes = fromNixBase32(body);
  }
  return bytes && bytes.length === SHA256_BYTES ? Buffer.from(bytes).toString("hex") : null;
}

function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  return Buffer.from(text, "base64");
}

/**
 * Nix's base32 runs from the last character to the first, five bits each, least significant
 * bits first (libutil's hash.cc): the reverse of how it prints.
 */
export function fromNixBase32(text: string, size = SHA256_BYTES): Uint8Array | null {
  if (text.length !== Math.ceil((size * 8) / 5)) return null;
  const out = new Uint8Array(size);
  for (let n = 0; n < text.length; n++) {
    const digit = BASE32.indexOf(text[text.length - n - 1]!);
    if (digit < 0) return null;
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    out[i]! |= (digit << j) & 0xff;
    const carry = digit >> (8 - j);
    if (i < size - 1) out[i + 1]! |= carry;
    else if (carry) return null; // bits past the hash's end
  }
  return out;
}
