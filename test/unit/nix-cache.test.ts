import { createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fingerprint, isStoreHash, narDigestOf, narURL, nix32, renderNarInfo, type NarInfoRecord } from "../../common/nix-cache/narinfo.ts";
import { generateSecretKey, parseSecretKey } from "../../builder/cache/signing-key.ts";

// Vectors printed by Nix 2.8: `nix hash to-base32`, `nix-store --generate-binary-cache-key test-1 sk pk`.
const NIX_SK = "test-1:HbFXFBXVQv7PRv67bdFbyEfMhpz/RjnVdjammFNi/S8siGDsz2Ny/uRndYpk4+YdmbuECNK7Fpe2wnAm+nqd4w==";
const NIX_PK = "test-1:LIhg7M9jcv7kZ3WKZOPmHZm7hAjSuxaXtsJwJvp6neM=";

describe("nix32", () => {
  it.each([
    ["ae841c0870a0098053a93e1acbf9fe2a2b0eb4f1ba631652a340dc9647dbde07", "01yyvd3rdp20ld91cqxsy6s0warazvwwn6iym59q02d0f041r15f"],
    ["0000000000000000000000000000000000000001", "04000000000000000000000000000000"],
  ])("%s is %s, as nix hash to-base32 says", (hex, want) => {
    expect(nix32(Buffer.from(hex, "hex"))).toBe(want);
  });
});

describe("store hashes and NAR URLs", () => {
  it.each([
    ["b3can78b8m5a1yb2swx27af30h38w1py", true],
    ["b3can78b8m5a1yb2swx27af30h38w1p", false], // 31 characters
    ["b3can78b8m5a1yb2swx27af30h38w1pe", false], // e is not in Nix's alphabet
    ["B3CAN78B8M5A1YB2SWX27AF30H38W1PY", false],
    ["../../../../../../../../etc/pass", false],
  ])("%s → %s", (s, ok) => expect(isStoreHash(s)).toBe(ok));

  it("a NAR URL names its blob, and nothing else is a NAR URL", () => {
    const hex = "a".repeat(64);
    expect(narDigestOf(narURL(hex))).toBe(`sha256:${hex}`);
    for (const bad of [`nar/${hex}.nar.xz`, `nar/${hex.slice(1)}.nar.zst`, `nar/../${hex}.nar.zst`, `${hex}.nar.zst`]) expect(narDigestOf(bad)).toBeNull();
  });
});

describe("signing", () => {
  it("reads Nix's key file: the same public key Nix wrote", () => {
    expect(parseSecretKey(NIX_SK + "\n").publicKey).toBe(NIX_PK);
  });

  it("signs the fingerprint so the public key verifies it, and a changed fingerprint does not", () => {
    const key = parseSecretKey(NIX_SK);
    const text = "1;/nix/store/b3can78b8m5a1yb2swx27af30h38w1py-x;sha256:01yyvd3rdp20ld91cqxsy6s0warazvwwn6iym59q02d0f041r15f;12;";
    const sig = key.sign(text);
    expect(sig.startsWith("test-1:")).toBe(true);
    const pub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(NIX_PK.slice(7), "base64").toString("base64url") }, format: "jwk" });
    const raw = Buffer.from(sig.slice(7), "base64");
    expect(verify(null, Buffer.from(text), pub, raw)).toBe(true);
    expect(verify(null, Buffer.from(text.replace(";12;", ";13;")), pub, raw)).toBe(false);
  });

  it("generated keys round-trip; malformed key files are refused without echoing them", () => {
    const key = parseSecretKey(generateSecretKey("nixport-1"));
    expect(key.publicKey).toMatch(/^nixport-1:[A-Za-z0-9+/]{43}=$/);
    for (const bad of ["", "nokey", "x:" + Buffer.alloc(32).toString("base64"), ":" + Buffer.alloc(64).toString("base64")]) {
      expect(() => parseSecretKey(bad)).toThrow(/not a Nix binary cache secret key/);
    }
    const mismatched = "k:" + Buffer.concat([Buffer.alloc(32, 1), Buffer.alloc(32, 2)]).toString("base64");
    expect(() => parseSecretKey(mismatched)).toThrow(/does not match/);
  });
});

describe("narinfo", () => {
  const record: NarInfoRecord = {
    storePath: "/nix/store/b3can78b8m5a1yb2swx27af30h38w1py-hello",
    url: narURL("a".repeat(64)),
    compression: "zstd",
    fileHash: "sha256:01yyvd3rdp20ld91cqxsy6s0warazvwwn6iym59q02d0f041r15f",
    fileSize: 10,
    narHash: "sha256:01yyvd3rdp20ld91cqxsy6s0warazvwwn6iym59q02d0f041r15f",
    narSize: 120,
    references: ["/nix/store/04000000000000000000000000000000-dep", "/nix/store/b3can78b8m5a1yb2swx27af30h38w1py-hello"],
    sig: "k:c2ln",
  };

  it("the fingerprint lists full reference paths; the narinfo their base names", () => {
    expect(fingerprint(record)).toBe(
      "1;/nix/store/b3can78b8m5a1yb2swx27af30h38w1py-hello;sha256:01yyvd3rdp20ld91cqxsy6s0warazvwwn6iym59q02d0f041r15f;120;/nix/store/04000000000000000000000000000000-dep,/nix/store/b3can78b8m5a1yb2swx27af30h38w1py-hello",
    );
    const text = renderNarInfo(record);
    expect(text).toContain("\nReferences: 04000000000000000000000000000000-dep b3can78b8m5a1yb2swx27af30h38w1py-hello\n");
    expect(text).toContain(`\nURL: nar/${"a".repeat(64)}.nar.zst\nCompression: zstd\n`);
    expect(text.endsWith("Sig: k:c2ln\n")).toBe(true);
    expect(text).not.toContain("Deriver");
  });
});
