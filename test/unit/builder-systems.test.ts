import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { remoteSystems } from "../../builder/nix/systems.ts";

describe("remote builders' systems (Nix's builders setting)", () => {
  it("reads each machine's comma-separated systems, inline or from an @file", async () => {
    expect(await remoteSystems("ssh://a aarch64-linux,x86_64-linux - 4; ssh://b - ; ")).toEqual(["aarch64-linux", "x86_64-linux"]);
    const dir = mkdtempSync(join(tmpdir(), "nixport-machines-"));
    writeFileSync(join(dir, "machines"), "# comment\nssh-ng://arm aarch64-linux /key 8\n");
    expect(await remoteSystems(`@${join(dir, "machines")}`)).toEqual(["aarch64-linux"]);
    expect(await remoteSystems("")).toEqual([]);
  });
});
