import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  closuresOfRoots,
  formatPopularity,
  loadPopularity,
  maxPopularity,
  parsePopularity,
  popularityFromClosures,
} from "../../builder/layers/popularity.ts";

const H = "0123456789abcdfghijklmnpqrsvwxyz";
const sp = (name: string) => `/nix/store/${H}-${name}`;

describe("parsePopularity", () => {
  it.each([
    ["plain names", { "glibc-2.39": 40, "zlib-1.3": 7 }, [["glibc-2.39", 40], ["zlib-1.3", 7]]],
    ["hash-name keys are reduced to names", { [`${H}-zlib-1.3`]: 7 }, [["zlib-1.3", 7]]],
    ["full store paths too", { [sp("zlib-1.3")]: 7 }, [["zlib-1.3", 7]]],
    ["two keys for one name keep the larger count", { "zlib-1.3": 3, [sp("zlib-1.3")]: 7 }, [["zlib-1.3", 7]]],
    ["a name with dashes but no hash stays whole", { "perl-5.38-env": 2 }, [["perl-5.38-env", 2]]],
  ])("%s", (_, json, expected) => {
    expect([...parsePopularity(json)]).toEqual(expected);
  });

  it.each([
    ["an array", [["zlib", 1]]],
    ["null", null],
    ["a negative count", { zlib: -1 }],
    ["a fractional count", { zlib: 1.5 }],
    ["a string count", { zlib: "3" }],
  ])("rejects %s", (_, json) => {
    expect(() => parsePopularity(json)).toThrow();
  });
});

describe("computing popularity", () => {
  it("counts each name once per closure", () => {
    const pop = popularityFromClosures([
      [sp("glibc"), sp("git"), sp("glibc")],
      [sp("glibc"), sp("htop")],
      [sp("hello")],
    ]);
    expect(Object.fromEntries(pop)).toEqual({ glibc: 2, git: 1, htop: 1, hello: 1 });
    expect(maxPopularity(pop)).toBe(2);
    expect(maxPopularity(new Map())).toBe(0);
  });

  it("takes each root's own closure out of one graph", () => {
    const info = (name: string, ...refs: string[]) => ({ path: sp(name), narSize: 1, references: [sp(name), ...refs.map(sp)] });
    const graph = {
      roots: [sp("git"), sp("htop"), sp("glibc")],
      paths: [info("git", "curl", "glibc"), info("curl", "glibc"), info("htop", "ncurses"), info("ncurses", "glibc"), info("glibc")],
    };
    const closures = closuresOfRoots(graph).map((c) => c.map((p) => p.slice(p.indexOf("-") + 1)).sort());
    expect(closures).toEqual([["curl", "git", "glibc"], ["glibc", "htop", "ncurses"], ["glibc"]]);
    expect(Object.fromEntries(popularityFromClosures(closuresOfRoots(graph)))).toEqual({ glibc: 3, git: 1, curl: 1, htop: 1, ncurses: 1 });
    expect(() => closuresOfRoots({ roots: [sp("x")], paths: [info("x", "gone")] })).toThrow(/missing/);
  });

  it("writes sorted JSON that parses back to the same data", () => {
    const pop = new Map([["zlib", 2], ["bash", 9], ["curl", 0]]);
    const text = formatPopularity(pop);
    expect(Object.keys(JSON.parse(text))).toEqual(["bash", "curl", "zlib"]);
    expect(parsePopularity(JSON.parse(text))).toEqual(pop);
  });
});

describe("loadPopularity", () => {
  const body = JSON.stringify({ [`${H}-glibc-2.39`]: 12, "zlib-1.3": 4 });
  let server: Server;
  let base = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/popularity.json") res.writeHead(200, { "content-type": "application/json" }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  const dir = mkdtempSync(join(tmpdir(), "nixport-pop-"));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a local file, by path or file: URL", async () => {
    const file = join(dir, "popularity.json");
    writeFileSync(file, body);
    expect(Object.fromEntries(await loadPopularity(file))).toEqual({ "glibc-2.39": 12, "zlib-1.3": 4 });
    expect(await loadPopularity(pathToFileURL(file).href)).toEqual(await loadPopularity(file));
  });

  it("fetches a URL and reports HTTP errors", async () => {
    expect(Object.fromEntries(await loadPopularity(`${base}/popularity.json`))).toEqual({ "glibc-2.39": 12, "zlib-1.3": 4 });
    await expect(loadPopularity(`${base}/missing.json`)).rejects.toThrow(/HTTP 404/);
  });
});
