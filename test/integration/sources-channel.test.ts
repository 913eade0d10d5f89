/**
 * A channel source against a local channel server shaped like nixos.org's: the channel URL
 * redirects to an immutable release folder holding `git-revision` and `nixexprs.tar.xz`.
 * Real Nix downloads the release under restrict-eval (the release is its allowed URI).
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelSource } from "../../builder/sources.ts";
import { caught, TESTPKGS, testNix } from "../support/nix.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const RELEASE = "/releases/nixos-24.05.1234.0123456";
let server: Server;
let base: string;
let tarball: Buffer;

beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), "nixport-channel-"));
  // Like a real channel tarball: one top folder holding the package set.
  mkdirSync(join(work, "top"));
  cpSync(TESTPKGS, join(work, "top", "nixos-24.05.1234.0123456"), { recursive: true });
  execFileSync("tar", ["-cJf", join(work, "nixexprs.tar.xz"), "-C", join(work, "top"), "."]);
  tarball = readFileSync(join(work, "nixexprs.tar.xz"));
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    const moved = /^\/channels\/nixos-24\.05(\/.*)$/.exec(path);
    if (moved) return void res.writeHead(302, { Location: `${RELEASE}${moved[1]}` }).end();
    if (path === `${RELEASE}/git-revision`) return void res.end(`${COMMIT}\n`);
    if (path === `${RELEASE}/nixexprs.tar.xz`) return void res.end(tarball);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server?.close(resolve)));

describe("channel package source", () => {
  it("records the nixpkgs commit the channel resolved to, and builds from that release", async () => {
    const src = new ChannelSource("nixos-24.05", { baseUrl: `${base}/channels` });
    const r = await src.resolve("latest");
    expect(r).toMatchObject({ revision: COMMIT, immutable: false, cacheKey: null, pkgsPath: "" });
    expect(r.nixPath).toEqual([`nixpkgs=${base}${RELEASE}/nixexprs.tar.xz`]);
    expect(r.allowedUris).toEqual([`${base}${RELEASE}/`]);
    const nix = testNix();
    const names = await nix.resolveNames(r, ["hello"], "x86_64-linux");
    const realised = await nix.realise(r, names.map((n) => n.attrPath), "x86_64-linux");
    try {
      expect(execFileSync(join(realised.outputs[0]!, "bin/hello"), { encoding: "utf8" })).toBe("Hello, world!\n");
    } finally {
      await realised.release();
    }
  });

  it("a channel tag names another channel; unknown channels are not found, other tags invalid", async () => {
    const src = new ChannelSource("nixos-unstable", { baseUrl: `${base}/channels` });
    expect((await src.resolve("nixos-24.05")).revision).toBe(COMMIT);
    expect((await caught(src.resolve("latest"))).kind).toBe("not_found");
    expect((await caught(src.resolve("v1.2"))).kind).toBe("invalid_argument");
    expect(() => new ChannelSource("../../etc")).toThrow();
  });

  it("an unreachable channel server is unavailable, retry later", async () => {
    const err = await caught(new ChannelSource("nixos-unstable", { baseUrl: "http://127.0.0.1:9/channels" }).resolve("latest"));
    expect(err.kind).toBe("unavailable");
    expect(err.details.retryAfterSeconds).toBeGreaterThan(0);
  });
});
