/**
 * The binary cache's ed25519 signing key, in the files `nix-store --generate-binary-cache-key`
 * writes: `<name>:<base64 of 64 bytes: seed, then public key>` (secret) and
 * `<name>:<base64 of the 32-byte public key>` (public). node:crypto takes the seed as a
 * PKCS8 key; signatures are `<name>:<base64 signature>`, as Nix checks them.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface SigningKey {
  name: string;
  /** `<name>:<base64 public key>`, what trusted-public-keys lists. */
  publicKey: string;
  /** `<name>:<base64 signature>` of `text`. */
  sign(text: string): string;
}

/** PKCS8 DER of an ed25519 key is this fixed header followed by the 32-byte seed (RFC 8410). */
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
const KEY_NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;

/** Parses a secret key file's text; throws a message that never repeats the secret. */
export function parseSecretKey(text: string): SigningKey {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  const name = trimmed.slice(0, colon);
  const secret = Buffer.from(trimmed.slice(colon + 1), "base64");
  if (colon < 1 || !KEY_NAME_RE.test(name) || secret.length !== 64) {
    throw new Error("not a Nix binary cache secret key (name:base64 of 64 bytes, as nix-store --generate-binary-cache-key writes)");
  }
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, secret.subarray(0, 32)]), format: "der", type: "pkcs8" });
  const pub = rawPublicKey(key);
  if (!pub.equals(secret.subarray(32))) throw new Error("the secret key's public half does not match its seed");
  return signingKey(name, key, pub);
}

/** A new key named `name`, as a secret key file's text. */
export function generateSecretKey(name: string): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const seed = privateKey.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_ED25519.length);
  return `${name}:${Buffer.concat([seed, rawPublicKey(privateKey)]).toString("base64")}`;
}

/**
 * The key in `file`; when `generateIfMissing`, a missing file is made once (mode 0600) with a
 * new key named `name`, and kept for every later start.
 */
export async function loadSigningKey(file: string, generate?: { name: string }): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !generate) throw err;
    await mkdir(dirname(file), { recursive: true });
    // "wx": two builders starting at once on one data folder keep the first one's key.
    await writeFile(file, generateSecretKey(generate.name) + "\n", { mode: 0o600, flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
    text = await readFile(file, "utf8");
  }
  return parseSecretKey(text);
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: "jwk" });
  return Buffer.from(jwk.x!, "base64url");
}

function signingKey(name: string, key: KeyObject, pub: Buffer): SigningKey {
  return {
    name,
    publicKey: `${name}:${pub.toString("base64")}`,
    sign: (text) => `${name}:${sign(null, Buffer.from(text), key).toString("base64")}`,
  };
}
