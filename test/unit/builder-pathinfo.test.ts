import { describe, expect, it } from "vitest";
import { parsePathInfo } from "../../builder/nix/pathinfo.ts";
import { storePathName } from "../../builder/nix/graph.ts";

const libc = "/nix/store/aaaa-libc-2.0";
const hello = "/nix/store/bbbb-hello-1.0";

describe("nix path-info --json", () => {
  it("reads Nix 2.8's list form, sorted, with de-duplicated references", () => {
    const graph = parsePathInfo([
      { path: hello, narSize: 200, references: [libc, hello, libc], valid: true },
      { path: libc, narSize: 1000, references: [libc] },
    ]);
    expect(graph).toEqual([
      { path: libc, narSize: 1000, references: [libc] },
      { path: hello, narSize: 200, references: [libc, hello] },
    ]);
  });

  it("reads newer Nix's object form, including base-name references", () => {
    const graph = parsePathInfo({
      [hello]: { narSize: 200, references: ["aaaa-libc-2.0"] },
      [libc]: { narSize: 1000, references: [] },
    });
    expect(graph.map((p) => p.path)).toEqual([libc, hello]);
    expect(graph[1]!.references).toEqual([libc]);
  });

  it("refuses invalid paths instead of building an image without them", () => {
    expect(() => parsePathInfo({ [hello]: null })).toThrow(/not valid/);
    expect(() => parsePathInfo([{ narSize: 1 }])).toThrow(/without a store path/);
  });

  it("names a store path without its hash", () => {
    expect(storePathName(hello)).toBe("hello-1.0");
    expect(storePathName("/nix/store/cccc-python3.11-requests-2.31")).toBe("python3.11-requests-2.31");
  });
});
