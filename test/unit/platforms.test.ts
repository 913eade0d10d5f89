import { describe, expect, it } from "vitest";
import { ociPlatform, parsePlatforms } from "../../common/platforms.ts";
import { namesArch } from "../../common/names.ts";
import { indexMediaType } from "../../edge/routes/media.ts";

describe("NIXPORT_PLATFORMS", () => {
  it("reads platforms in order, without repeats, in the spellings clients use", () => {
    expect(parsePlatforms("linux/amd64,linux/arm64", ["amd64"])).toEqual(["amd64", "arm64"]);
    expect(parsePlatforms(" linux/arm64/v8  amd64,arm64 ", ["amd64"])).toEqual(["arm64", "amd64"]);
  });
  it("falls back when unset or empty, and refuses an unknown platform by name", () => {
    expect(parsePlatforms(undefined, ["arm64"])).toEqual(["arm64"]);
    expect(parsePlatforms(" , ", ["amd64"])).toEqual(["amd64"]);
    expect(() => parsePlatforms("linux/amd64,linux/riscv64", ["amd64"])).toThrow("unknown platform 'linux/riscv64'");
    expect(() => parsePlatforms("windows/amd64", ["amd64"])).toThrow("unknown platform 'windows/amd64'");
  });
  it("names arm64 images ARMv8 in an index, as their config does", () => {
    expect(ociPlatform("arm64")).toEqual({ architecture: "arm64", os: "linux", variant: "v8" });
    expect(ociPlatform("amd64")).toEqual({ architecture: "amd64", os: "linux" });
  });
});

describe("index negotiation", () => {
  it("answers an OCI index when Accept lists it, a Docker list when it lists only that, else none", () => {
    const docker = "application/vnd.docker.distribution.manifest.v2+json";
    const list = "application/vnd.docker.distribution.manifest.list.v2+json";
    const oci = "application/vnd.oci.image.index.v1+json";
    expect(indexMediaType(`${docker}, ${list}, ${oci}`)).toBe(oci);
    expect(indexMediaType(`${docker}, ${list}`)).toBe(list);
    expect(indexMediaType(`${docker}, ${oci};q=0`)).toBeNull();
    expect(indexMediaType(undefined)).toBeNull();
  });
  it("tells names that pick an architecture from those that do not", () => {
    expect(namesArch("arm64/hello")).toBe(true);
    expect(namesArch("shell/git/amd64")).toBe(true);
    expect(namesArch("hello")).toBe(false);
    expect(namesArch("arm64x/hello")).toBe(false);
  });
});
