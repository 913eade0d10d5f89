import { describe, expect, it } from "vitest";
import { listSetting, toolEnv } from "../../builder/nix/env.ts";
import { hidePaths, publicUrl } from "../../builder/nix/redact.ts";
import { publicGitName } from "../../builder/sources/git.ts";
import { RefPatterns } from "../../builder/sources/refs.ts";

describe("allowed ref patterns", () => {
  const defaults = new RefPatterns(["refs/heads/*", "refs/tags/*"]);
  const narrow = new RefPatterns(["refs/heads/nixos-*", "refs/heads/master"]);
  it.each([
    [defaults, "refs/heads/main", true],
    [defaults, "refs/heads/release/24.05", true],
    [defaults, "refs/tags/v1", true],
    [defaults, "refs/pull/1/head", false],
    [defaults, "refs/pull/1/merge", false],
    [defaults, "refs/heads", false],
    [narrow, "refs/heads/nixos-24.05", true],
    [narrow, "refs/heads/master", true],
    [narrow, "refs/heads/master2", false],
    [narrow, "refs/heads/main", false],
    [narrow, "refs/tags/nixos-24.05", false],
  ])("%#: %s allows %s: %s", (p, ref, allowed) => expect(p.allows(ref)).toBe(allowed));

  it("a branch or tag name stands for the allowed refs of that name, branches first", () => {
    expect(defaults.candidates("v1")).toEqual(["refs/heads/v1", "refs/tags/v1"]);
    expect(narrow.candidates("nixos-24.05")).toEqual(["refs/heads/nixos-24.05"]);
    expect(narrow.candidates("v1")).toEqual([]);
  });

  it.each([["heads/*"], ["refs/heads/**"], ["refs/*/x/*"], ["refs/../x"], [""], ["refs/heads/a b"]])("refuses the pattern %j", (p) => {
    expect(() => new RefPatterns([p])).toThrow();
  });
  it("refuses an empty list", () => expect(() => new RefPatterns([])).toThrow());
});

describe("what clients see of the host", () => {
  it.each([
    ["https://user:token@github.com/NixOS/nixpkgs", "https://github.com/NixOS/nixpkgs"],
    ["https://github.com/NixOS/nixpkgs?access_token=x#y", "https://github.com/NixOS/nixpkgs"],
    ["git@github.com:NixOS/nixpkgs.git", "github.com:NixOS/nixpkgs.git"],
    ["file:///srv/git/pkgs.git", "pkgs"],
    ["/home/op/src/my-pkgs/", "my-pkgs"],
    ["ssh://deploy@host/x/pkgs", "ssh://host/x/pkgs"],
  ])("the git source %s is known as %s", (url, name) => expect(publicGitName(url)).toBe(name));

  it("URLs lose their userinfo", () => expect(publicUrl("http://a:b@h:1/p")).toBe("http://h:1/p"));

  it("host paths become placeholders, the longest first", () => {
    const paths = new Map([["/data", "<data>"], ["/data/sources/x/", "<package set>"]]);
    expect(hidePaths("error: /data/sources/x/default.nix:1 and /data/y", paths)).toBe("error: <package set>/default.nix:1 and <data>/y");
  });
});

describe("the environment Nix and git get", () => {
  const env = { PATH: "/bin", HOME: "/root", NIX_CONFIG: "x", NIX_PATH: "nixpkgs=/etc", AWS_SECRET_ACCESS_KEY: "s", NIXPORT_BUILDER_TOKEN: "t", OTHER: "o", https_proxy: "p" };
  it("keeps what Nix needs and what the operator names, never AWS_*, NIXPORT_* or NIX_PATH", () => {
    expect(toolEnv(env)).toEqual({ PATH: "/bin", HOME: "/root", NIX_CONFIG: "x", https_proxy: "p" });
    expect(toolEnv(env, ["OTHER", "AWS_SECRET_ACCESS_KEY", "NIXPORT_BUILDER_TOKEN"])).toEqual({ PATH: "/bin", HOME: "/root", NIX_CONFIG: "x", https_proxy: "p", OTHER: "o" });
  });
  it("list settings split on commas and colons; unset means the default", () => {
    expect(listSetting("refs/heads/a, refs/tags/*", [])).toEqual(["refs/heads/a", "refs/tags/*"]);
    expect(listSetting("/bin:/usr/bin", [])).toEqual(["/bin", "/usr/bin"]);
    expect(listSetting(undefined, ["d"])).toEqual(["d"]);
    expect(listSetting("", ["d"])).toEqual([]);
  });
});
