import { describe, expect, it } from "vitest";
import { packageListProblems, packageNameProblem } from "../../common/names.ts";

describe("package name grammar", () => {
  const ok = ["hello", "python3Packages.requests", "bashInteractive", "gtk+", "a_b-c", "0ad", "xorg.libX11"];
  it.each(ok)("accepts %s", (name) => expect(packageNameProblem(name)).toBeNull());

  const bad = [
    "",
    '${builtins.readFile "/etc/passwd"}',
    '"; rm -rf /',
    "../..",
    "a..b",
    ".hidden",
    "trailing.",
    "with space",
    "nul\u0000byte",
    "x".repeat(10_000),
    "a.b.c.d.e.f.g",
    "-flag",
    "(import <nixpkgs> {})",
    "héllo",
    "a/b",
  ];
  it.each(bad.map((b) => [JSON.stringify(b).slice(0, 40), b]))("refuses %s", (_label, name) => {
    expect(packageNameProblem(name)).toMatch(/name/);
  });

  it("lists one problem per bad name and refuses empty or huge lists", () => {
    expect(packageListProblems(["hello", "../x", "git", "a b"])).toHaveLength(2);
    expect(packageListProblems([])).toEqual(["no packages requested"]);
    expect(packageListProblems(Array.from({ length: 201 }, (_, i) => `p${i}`))[0]).toMatch(/more than 200/);
    expect(packageListProblems(["hello", "git"])).toEqual([]);
  });
});
