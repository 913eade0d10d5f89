/** The name grammar, as a table: name (and tag) → ImageRequest or the reason it is refused. */
import { describe, expect, it } from "vitest";
import { canonicalRequest, requestKey } from "../../common/image-request.ts";
import { imageName, isTag, MAX_NAME_LENGTH, parseDigest, parseImageRequest, parseName, parseReference, SHELL_PACKAGES } from "../../common/names.ts";

const SHELL = ["bashinteractive", "coreutils", "moreutils", "nano"];

const accepted: [string, { arch: string; packages: string[]; user?: string }][] = [
  ["git", { arch: "amd64", packages: ["git"] }],
  ["git/htop", { arch: "amd64", packages: ["git", "htop"] }],
  ["htop/git", { arch: "amd64", packages: ["git", "htop"] }],
  ["git/git/git", { arch: "amd64", packages: ["git"] }],
  ["shell", { arch: "amd64", packages: SHELL }],
  ["shell/git", { arch: "amd64", packages: [...SHELL, "git"].sort() }],
  ["git/shell", { arch: "amd64", packages: [...SHELL, "git"].sort() }],
  ["shell/shell/nano", { arch: "amd64", packages: SHELL }],
  ["arm64/git", { arch: "arm64", packages: ["git"] }],
  ["amd64/git", { arch: "amd64", packages: ["git"] }],
  ["arm64/shell/git", { arch: "arm64", packages: [...SHELL, "git"].sort() }],
  ["shell/arm64/git", { arch: "arm64", packages: [...SHELL, "git"].sort() }],
  ["arm64/arm64/git", { arch: "arm64", packages: ["git"] }],
  ["nonroot/git", { arch: "amd64", packages: ["git"], user: "nonroot" }],
  ["git/nonroot/nonroot", { arch: "amd64", packages: ["git"], user: "nonroot" }],
  ["nonroot/arm64/shell", { arch: "arm64", packages: SHELL, user: "nonroot" }],
  ["arm64/nonroot/git", { arch: "arm64", packages: ["git"], user: "nonroot" }],
  ["python3packages.requests", { arch: "amd64", packages: ["python3packages.requests"] }],
  ["haskellpackages.pandoc/git", { arch: "amd64", packages: ["git", "haskellpackages.pandoc"] }],
  ["gcc-unwrapped", { arch: "amd64", packages: ["gcc-unwrapped"] }],
  ["a--b", { arch: "amd64", packages: ["a--b"] }],
  ["a__b", { arch: "amd64", packages: ["a__b"] }],
  ["a_b", { arch: "amd64", packages: ["a_b"] }],
  ["0ad", { arch: "amd64", packages: ["0ad"] }],
  ["manifests/blobs", { arch: "amd64", packages: ["blobs", "manifests"] }],
  ["builtins.fetchurl", { arch: "amd64", packages: ["builtins.fetchurl"] }], // a name; the builder decides
];

const refused: [string, RegExp][] = [
  ["", /empty/],
  ["Git", /invalid path component/],
  ["git/", /invalid path component ""/],
  ["/git", /invalid path component ""/],
  ["git//htop", /invalid path component/],
  [".git", /invalid/],
  ["git.", /invalid/],
  ["git..x", /invalid/],
  ["a___b", /invalid/],
  ["-git", /invalid/],
  ["git-", /invalid/],
  ["a.-b", /invalid/],
  ["gït", /invalid/],
  ["git%2fhtop", /invalid/],
  ["..", /invalid/],
  ["git htop", /invalid/],
  ["git:latest", /invalid/],
  ['${builtins.readfile "/etc/passwd"}', /invalid/],
  ["(import <nixpkgs> {}).hello", /invalid/],
  ["a;b", /invalid/],
  ["arm64", /no packages/],
  ["nonroot", /no packages/],
  ["arm64/nonroot", /no packages/],
  ["amd64/arm64", /conflicting architectures/],
  ["arm64/git/amd64", /conflicting architectures/],
  ["a".repeat(MAX_NAME_LENGTH + 1), /longer than 255/],
];

describe("parseName", () => {
  it.each(accepted)("accepts %s", (name, want) => {
    expect(parseName(name)).toEqual({ ok: true, value: want });
  });
  it.each(refused)("refuses %j", (name, reason) => {
    const r = parseName(name);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
  it("accepts a name of exactly the maximum length", () => {
    expect(parseName("a".repeat(MAX_NAME_LENGTH)).ok).toBe(true);
  });
  it("expands shell to lowercase names only", () => {
    expect(SHELL_PACKAGES.every((p) => p === p.toLowerCase())).toBe(true);
  });
});

describe("references", () => {
  const hex = "0123456789abcdef".repeat(4);
  it.each([
    ["latest", { kind: "tag", tag: "latest" }],
    ["nixos-24.05", { kind: "tag", tag: "nixos-24.05" }],
    ["_x", { kind: "tag", tag: "_x" }],
    ["A.b-C_d", { kind: "tag", tag: "A.b-C_d" }],
    ["t".repeat(128), { kind: "tag", tag: "t".repeat(128) }],
    [`sha256:${hex}`, { kind: "digest", digest: `sha256:${hex}` }],
    [`sha512:${hex}${hex}`, { kind: "foreign-digest", digest: `sha512:${hex}${hex}` }],
    ["multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", { kind: "foreign-digest", digest: "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8" }],
  ])("parses %s", (ref, want) => {
    expect(parseReference(ref)).toEqual({ ok: true, value: want });
  });
  it.each(["", "-x", ".x", "t".repeat(129), "a/b", "la test", "lätest", `sha256:${hex.toUpperCase()}`, `sha256:${hex}0`, "sha256:", ":", "SHA256:abc", "${x}"])(
    "refuses %j",
    (ref) => expect(parseReference(ref).ok).toBe(false),
  );
  it("blob digests are never tags", () => {
    expect(parseDigest("latest").ok).toBe(false);
    expect(parseDigest(`sha256:${hex}`)).toEqual({ ok: true, value: { kind: "digest", digest: `sha256:${hex}` } });
  });
  it("isTag follows the OCI tag grammar", () => {
    expect([isTag("v1.0"), isTag("1"), isTag(".hidden"), isTag("a:b")]).toEqual([true, true, false, false]);
  });
});

describe("parseImageRequest and requestKey", () => {
  it("gives equal keys to requests for the same image, and different keys otherwise", () => {
    const key = (n: string, t = "latest") => {
      const r = parseImageRequest(n, t);
      if (!r.ok) throw new Error(r.reason);
      return requestKey(r.value);
    };
    expect(key("shell/git")).toBe(key("git/shell/git"));
    expect(key("arm64/git")).not.toBe(key("git"));
    expect(key("git", "latest")).not.toBe(key("git", "nixos-24.05"));
    expect(key("git/htop")).toBe("amd64/git/htop:latest");
    expect(key("nonroot/git")).toBe(key("git/nonroot"));
    expect(key("nonroot/git")).not.toBe(key("git"));
    expect(key("arm64/nonroot/git")).not.toBe(key("nonroot/git"));
  });
  it("keys a nonroot image and an image with settings apart; root and empty settings are the plain key", () => {
    const git = { arch: "amd64" as const, packages: ["git"], tag: "latest" };
    expect(requestKey({ ...git, user: "root", settings: {} })).toBe(requestKey(git));
    expect(requestKey({ ...git, user: "nonroot" })).toBe("amd64/git:latest;user=nonroot");
    expect(requestKey({ ...git, settings: { env: ["A=1"], user: "nobody" } })).toBe(requestKey({ ...git, settings: { user: "nobody", env: ["A=1"] } }));
    expect(requestKey({ ...git, settings: { env: ["A=1"] } })).not.toBe(requestKey({ ...git, settings: { env: ["A=2"] } }));
  });
  it("refuses a bad tag with its reason", () => {
    expect(parseImageRequest("git", "-x")).toEqual({ ok: false, reason: 'invalid tag "-x"' });
  });
});

describe("imageName: the canonical name a pull writes", () => {
  it.each([
    ["shell/git/htop", "bashinteractive/coreutils/git/htop/moreutils/nano"],
    ["htop/arm64/git/git", "arm64/git/htop"],
    ["amd64/hello", "hello"],
    ["hello/nonroot/arm64", "arm64/nonroot/hello"],
    ["nonroot/shell", "nonroot/bashinteractive/coreutils/moreutils/nano"],
    ["python3packages.requests", "python3packages.requests"],
  ])("%s → %s, which parses back to the same image", (name, canonical) => {
    const parsed = parseName(name);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(imageName(parsed.value)).toBe(canonical);
    expect(parseName(canonical)).toEqual(parsed);
  });
  it("spells camelCase attribute paths in lowercase, which the builder resolves", () => {
    expect(imageName({ arch: "amd64", packages: ["python3Packages.requests", "bashInteractive"] })).toBe("bashinteractive/python3packages.requests");
  });
  it("is null for packages no pull can name", () => {
    expect(imageName({ arch: "amd64", packages: ["gtk+"] })).toBeNull();
    expect(imageName({ arch: "amd64", packages: ["shell"] })).toBeNull();
    expect(imageName({ arch: "amd64", packages: ["arm64"] })).toBeNull();
    expect(imageName({ arch: "amd64", packages: ["nonroot"] })).toBeNull();
  });
});

describe("requestKey across callers", () => {
  it("is a pull's key for a gRPC build with the pull's write options, and differs for others", () => {
    const pull = parseImageRequest("git/htop", "latest");
    if (!pull.ok) throw new Error(pull.reason);
    const grpc = canonicalRequest({ arch: "amd64" as const, packages: ["htop", "git", "htop"], tag: "", formats: "both" as const, compression: "gzip" as const });
    expect(requestKey(grpc)).toBe(requestKey(pull.value));
    expect(requestKey({ ...grpc, formats: "oci" })).toBe("amd64/git/htop:latest;formats=oci;compression=gzip");
    expect(requestKey({ ...grpc, formats: "oci", compression: "zstd" })).not.toBe(requestKey({ ...grpc, formats: "oci" }));
  });
});
