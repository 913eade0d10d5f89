import { describe, expect, it } from "vitest";
import { baseSystemEntries, userConfig, withBaseSystem } from "../../builder/image/base-system.ts";
import type { ForestEntry } from "../../builder/image/forest.ts";

const textOf = (entries: ForestEntry[], path: string) => {
  const e = entries.find((x) => x.path === path);
  return e?.type === "file" ? new TextDecoder().decode(e.content) : undefined;
};

describe("the base system", () => {
  it("has root, nonroot and nobody in passwd and group, and lookups in files", () => {
    const entries = baseSystemEntries();
    expect(textOf(entries, "etc/passwd")).toBe(
      "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
    );
    expect(textOf(entries, "etc/group")).toBe("root:x:0:\nnonroot:x:65532:\nnobody:x:65534:\n");
    expect(textOf(entries, "etc/nsswitch.conf")).toMatch(/^passwd: files\ngroup: files\n/);
    expect(entries.filter((e) => e.type === "file").every((e) => e.type === "file" && e.mode === 0o644)).toBe(true);
  });

  it("gives root a private /root and nonroot a home of its own", () => {
    const dirs = Object.fromEntries(baseSystemEntries().filter((e) => e.type === "directory").map((e) => [e.path, e]));
    expect(dirs["root"]).toEqual({ type: "directory", path: "root", mode: 0o700 });
    expect(dirs["home/nonroot"]).toEqual({ type: "directory", path: "home/nonroot", mode: 0o755, owner: 65532 });
    expect(userConfig("root")).toEqual({ home: "/root" });
    expect(userConfig("nonroot")).toEqual({ user: "65532:65532", home: "/home/nonroot" });
  });

  it("replaces a package's user database and keeps the rest of its /etc", () => {
    const forest: ForestEntry[] = [
      { type: "directory", path: "etc", mode: 0o755 },
      { type: "symlink", path: "etc/nsswitch.conf", target: "/nix/store/a-glibc/etc/nsswitch.conf" },
      { type: "directory", path: "etc/passwd", mode: 0o755 },
      { type: "symlink", path: "etc/passwd/x", target: "/nix/store/b-odd/etc/passwd/x" },
      { type: "symlink", path: "etc/ssl", target: "/nix/store/c-cacert/etc/ssl" },
      { type: "directory", path: "tmp", mode: 0o1777 },
    ];
    const out = withBaseSystem(forest);
    const paths = out.map((e) => e.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(out.find((e) => e.path === "etc")).toEqual(forest[0]);
    expect(out.find((e) => e.path === "etc/ssl")).toEqual(forest[4]);
    expect(out.find((e) => e.path === "etc/nsswitch.conf")?.type).toBe("file");
    expect(out.find((e) => e.path === "etc/passwd")?.type).toBe("file");
    expect(paths).not.toContain("etc/passwd/x");
  });

  it("adds /etc when no package has one", () => {
    const out = withBaseSystem([{ type: "directory", path: "tmp", mode: 0o1777 }]);
    expect(out.map((e) => e.path).sort()).toEqual(["etc", "etc/group", "etc/nsswitch.conf", "etc/passwd", "home", "home/nonroot", "root", "tmp"]);
  });
});
