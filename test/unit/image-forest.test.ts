import { describe, expect, it } from "vitest";
import { missingListings, planForest, resolveInForest, type ForestEntry, type ListingNode, type PackageListing } from "../../builder/image/forest.ts";

/** A fully listed tree from a compact spec: an object is a directory, "f" a file, "l" a symlink. */
type Spec = { [name: string]: Spec | "f" | "l" };
function tree(spec: Spec): ListingNode {
  const children = new Map<string, ListingNode>();
  for (const [name, v] of Object.entries(spec)) {
    children.set(name, v === "f" ? { kind: "file" } : v === "l" ? { kind: "symlink" } : tree(v));
  }
  return { kind: "directory", children };
}
const pkg = (name: string, spec: Spec): PackageListing => ({ output: `/nix/store/${name}`, root: tree(spec) });
const asMap = (entries: ForestEntry[]) =>
  Object.fromEntries(entries.map((e) => [e.path, e.type === "directory" ? `dir ${e.mode.toString(8)}` : e.type === "file" ? `file ${e.mode.toString(8)}` : `→ ${e.target}`]));

const bash = pkg("aaa-bash", { bin: { bash: "f", sh: "l" }, share: { man: { man1: { "bash.1": "f" } } } });
const coreutils = pkg("bbb-coreutils", { bin: { ls: "f", env: "f", sh: "f" }, share: { man: { man1: { "ls.1": "f" } } }, libexec: { x: "f" } });
const busybox = pkg("ccc-busybox", { bin: { ls: "f", env: "f" } });
const cacert = pkg("ddd-cacert", { etc: { ssl: { certs: { "ca-bundle.crt": "f" } } }, nix: { support: "f" } });

describe("planForest", () => {
  it.each<[string, PackageListing[], Record<string, string>]>([
    ["one package: top dirs real, children linked", [busybox], {
      bin: "dir 755",
      "bin/ls": "→ /nix/store/ccc-busybox/bin/ls",
      "bin/env": "→ /nix/store/ccc-busybox/bin/env",
      tmp: "dir 1777",
      usr: "dir 755",
      "usr/bin": "dir 755",
      "usr/bin/env": "→ /nix/store/ccc-busybox/bin/env",
    }],
    ["first package in request order wins a name", [bash, coreutils], {
      bin: "dir 755",
      "bin/bash": "→ /nix/store/aaa-bash/bin/bash",
      "bin/sh": "→ /nix/store/aaa-bash/bin/sh",
      "bin/ls": "→ /nix/store/bbb-coreutils/bin/ls",
      "bin/env": "→ /nix/store/bbb-coreutils/bin/env",
      share: "dir 755",
      "share/man": "dir 755",
      "share/man/man1": "dir 755",
      "share/man/man1/bash.1": "→ /nix/store/aaa-bash/share/man/man1/bash.1",
      "share/man/man1/ls.1": "→ /nix/store/bbb-coreutils/share/man/man1/ls.1",
      libexec: "dir 755",
      "libexec/x": "→ /nix/store/bbb-coreutils/libexec/x",
      tmp: "dir 1777",
      usr: "dir 755",
      "usr/bin": "dir 755",
      "usr/bin/env": "→ /nix/store/bbb-coreutils/bin/env",
    }],
    ["no env: no /usr/bin/env; a dir only one package has stays one link; non-forest dirs ignored", [cacert], {
      etc: "dir 755",
      "etc/ssl": "→ /nix/store/ddd-cacert/etc/ssl",
      tmp: "dir 1777",
    }],
    ["nothing requested still gets /tmp", [], { tmp: "dir 1777" }],
  ])("%s", (_name, listings, expected) => {
    const entries = planForest(listings);
    expect(asMap(entries)).toEqual(expected);
    expect(entries).toHaveLength(Object.keys(expected).length); // no duplicates
  });

  it("is deterministic in request order, and request order decides conflicts", () => {
    expect(planForest([bash, coreutils])).toEqual(planForest([bash, coreutils]));
    const swapped = asMap(planForest([coreutils, bash]));
    expect(swapped["bin/sh"]).toBe("→ /nix/store/bbb-coreutils/bin/sh");
  });

  it("a file beats a later directory of the same name, and a directory a later file", () => {
    const a = pkg("a-x", { lib: { thing: "f", dir: { y: "f" } } });
    const b = pkg("b-y", { lib: { thing: { z: "f" }, dir: "f" } });
    const m = asMap(planForest([a, b]));
    expect(m["lib/thing"]).toBe("→ /nix/store/a-x/lib/thing");
    expect(m["lib/dir"]).toBe("→ /nix/store/a-x/lib/dir");
  });

  it("a symlinked top-level dir does not count as the dir", () => {
    const a = pkg("a-x", { bin: "l", sbin: { s: "f" } });
    expect(Object.keys(asMap(planForest([a]))).sort()).toEqual(["sbin", "sbin/s", "tmp"]);
  });
});

describe("missingListings", () => {
  it("asks for the top of unread outputs, then only for directories shared by several", () => {
    const unread: PackageListing = { output: "/nix/store/a-x", root: { kind: "directory" } };
    expect(missingListings([unread])).toEqual([{ output: "/nix/store/a-x", path: "" }]);
    const shallow = (name: string): PackageListing => ({
      output: `/nix/store/${name}`,
      root: { kind: "directory", children: new Map([["share", { kind: "directory", children: new Map([["man", { kind: "directory" }], [name, { kind: "directory" }]]) }]]) },
    });
    expect(missingListings([shallow("a-x"), shallow("b-y")])).toEqual([
      { output: "/nix/store/a-x", path: "share/man" },
      { output: "/nix/store/b-y", path: "share/man" },
    ]);
    expect(() => planForest([shallow("a-x"), shallow("b-y")])).toThrow(/share\/man/);
    expect(missingListings([bash, coreutils])).toEqual([]);
  });
});

describe("resolveInForest", () => {
  const entries = planForest([bash, coreutils, cacert]);
  it.each([
    ["/bin/bash", { entry: { type: "symlink", path: "bin/bash", target: "/nix/store/aaa-bash/bin/bash" } }],
    ["/etc/ssl/certs/ca-bundle.crt", { storePath: "/nix/store/ddd-cacert/etc/ssl/certs/ca-bundle.crt" }],
    ["/share/man", { entry: { type: "directory", path: "share/man", mode: 0o755 } }],
    ["/bin/zsh", null],
    ["/opt/x", null],
  ])("%s", (path, expected) => expect(resolveInForest(entries, path)).toEqual(expected));
});
