import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../common/canonical-json.ts";
import { buildImageConfig, CREATED, type ImageConfigInput } from "../../builder/image/config.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const base: ImageConfigInput = {
  architecture: "amd64",
  diffIds: [d("a"), d("b"), d("c")],
  packages: ["git", "bash", "htop"],
  source: "https://github.com/NixOS/nixpkgs",
  revision: "0123456789abcdef",
};
const parse = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe("canonicalJson", () => {
  it.each([
    [{ b: 1, a: [2, { d: null, c: "x" }] }, '{"a":[2,{"c":"x","d":null}],"b":1}'],
    [{ z: undefined, y: true }, '{"y":true}'],
    ["é\n", '"é\\n"'],
  ])("%j → %s", (value, text) => expect(canonicalJson(value)).toBe(text));

  it("refuses values JSON cannot hold faithfully", () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });
});

describe("buildImageConfig", () => {
  it("has the OCI/Docker config shape", () => {
    const json = parse(buildImageConfig({ ...base, shell: "/bin/bash", caBundle: true }).bytes);
    expect(json).toEqual({
      architecture: "amd64",
      os: "linux",
      created: CREATED,
      config: {
        Env: ["HOME=/root", "PATH=/bin:/usr/bin:/sbin:/usr/sbin", "NIX_SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt", "SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt"],
        Cmd: ["/bin/bash"],
        Labels: {
          "nixport.packages": "bash,git,htop",
          "org.opencontainers.image.source": "https://github.com/NixOS/nixpkgs",
          "org.opencontainers.image.revision": "0123456789abcdef",
        },
      },
      rootfs: { type: "layers", diff_ids: [d("a"), d("b"), d("c")] },
      history: [0, 1, 2].map(() => ({ created: CREATED, created_by: "nixport" })),
    });
  });

  it("leaves out Cmd and the CA variables when there is no shell or CA bundle, and runs as root", () => {
    const json = parse(buildImageConfig(base).bytes);
    expect(json.config.Cmd).toBeUndefined();
    expect(json.config.User).toBeUndefined();
    expect(json.config.Env).toEqual(["HOME=/root", "PATH=/bin:/usr/bin:/sbin:/usr/sbin"]);
  });

  it("a nonroot image runs as 65532:65532 with its own HOME, and is another config", () => {
    const json = parse(buildImageConfig({ ...base, user: "nonroot" }).bytes);
    expect(json.config.User).toBe("65532:65532");
    expect(json.config.Env).toEqual(["HOME=/home/nonroot", "PATH=/bin:/usr/bin:/sbin:/usr/sbin"]);
    expect(buildImageConfig({ ...base, user: "nonroot" }).digest).not.toBe(buildImageConfig(base).digest);
    expect(buildImageConfig({ ...base, user: "root" }).digest).toBe(buildImageConfig(base).digest);
  });

  it("is canonical bytes whose digest is their sha256", () => {
    const c = buildImageConfig(base);
    const text = new TextDecoder().decode(c.bytes);
    expect(text).not.toMatch(/\s/);
    expect(text).toBe(canonicalJson(JSON.parse(text)));
    expect(c.digest).toBe(`sha256:${createHash("sha256").update(c.bytes).digest("hex")}`);
    expect(c.size).toBe(c.bytes.length);
  });

  it("is deterministic, and package order does not matter", () => {
    const a = buildImageConfig(base);
    expect(buildImageConfig({ ...base }).digest).toBe(a.digest);
    expect(buildImageConfig({ ...base, packages: ["htop", "git", "bash", "git"] }).digest).toBe(a.digest);
  });

  it("changes with layer order, architecture and revision", () => {
    const a = buildImageConfig(base).digest;
    expect(buildImageConfig({ ...base, diffIds: [d("b"), d("a"), d("c")] }).digest).not.toBe(a);
    expect(buildImageConfig({ ...base, architecture: "arm64" }).digest).not.toBe(a);
    expect(buildImageConfig({ ...base, revision: "fedcba" }).digest).not.toBe(a);
  });

  it("marks arm64 as v8 and carries layer comments into history", () => {
    const json = parse(buildImageConfig({ ...base, architecture: "arm64", layerComments: ["x", "y", "z"] }).bytes);
    expect(json.architecture).toBe("arm64");
    expect(json.variant).toBe("v8");
    expect(json.history.map((h: { comment: string }) => h.comment)).toEqual(["x", "y", "z"]);
  });

  it("refuses a comment count that does not match the layers", () => {
    expect(() => buildImageConfig({ ...base, layerComments: ["x"] })).toThrow(/comments/);
  });
});
