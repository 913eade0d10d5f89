/**
 * The one place nixport turns bytes into a content digest (`sha256:<hex>`), the name every
 * blob is stored and referenced under.
 */
import { createHash, type Hash } from "node:crypto";

const PREFIX = "sha256:";

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return PREFIX + createHash("sha256").update(bytes).digest("hex");
}

/** A running sha256 for streamed content (layers); finish it with {@link digestOf}. */
export function newDigester(): Hash {
  return createHash("sha256");
}

/** `sha256:<hex>` of a running hash; the hash cannot be used afterwards. */
export function digestOf(hash: Hash): string {
  return PREFIX + hash.digest("hex");
}

/** The hex part of a `sha256:<hex>` digest. */
export function digestHex(digest: string): string {
  if (!digest.startsWith(PREFIX)) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return digest.slice(PREFIX.length);
}
