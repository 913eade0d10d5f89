/**
 * A builder that starts over a data folder a crash left behind removes the crashed writers'
 * scratch layers and store temps, and nothing else: not young files (writes in progress),
 * not published blobs however old. It also releases the GC roots of builder processes that
 * died holding them, and only those.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createBuilder } from "../../builder/builder.ts";
import { builderConfigFromEnv } from "../../builder/config.ts";
import { TESTPKGS } from "../support/nix.ts";

const HOURS_AGO = (h: number) => new Date(Date.now() - h * 3_600_000);

function file(path: string, ageHours: number): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "x");
  utimesSync(path, HOURS_AGO(ageHours), HOURS_AGO(ageHours));
}

describe("start-up sweep of crash leftovers", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "nixport-sweep-"));
  const blob = join(dataDir, "blobs", "sha256", "a".repeat(64));
  file(join(dataDir, "work", "layer-crashed.tar.gz"), 3);
  file(join(dataDir, "work", "layer-writing.tar.gz"), 0);
  file(join(dataDir, ".tmp", "crashed-upload"), 2);
  file(join(dataDir, ".tmp", "upload-in-progress"), 0);
  file(blob, 5);
  // GC roots: one of a builder that was killed (its pid is gone), one of this process's.
  const deadPid = spawnSync("true").pid;
  const deadRoot = `${deadPid}-1700000000000-0`;
  const ownRoot = `${process.pid}-1700000000000-0`;
  for (const root of [deadRoot, ownRoot]) {
    mkdirSync(join(dataDir, "gcroots", root), { recursive: true });
    symlinkSync(blob, join(dataDir, "gcroots", root, "result"));
  }
  const logged: [string, Record<string, unknown> | undefined][] = [];
  let close: (() => Promise<void>) | undefined;
  afterAll(() => close?.());

  it("removes old scratch and temp files, keeps young ones and every blob, and says so", async () => {
    const env = { NIXPORT_PKGS_PATH: TESTPKGS, NIXPORT_DATA: dataDir };
    const builder = await createBuilder(builderConfigFromEnv(env), env, { log: (m, f) => logged.push([m, f]) });
    close = () => builder.close(100);
    expect(readdirSync(join(dataDir, "work"))).toEqual(["layer-writing.tar.gz"]);
    expect(readdirSync(join(dataDir, ".tmp"))).toEqual(["upload-in-progress"]);
    expect(readdirSync(join(dataDir, "blobs", "sha256"))).toEqual(["a".repeat(64)]);
    expect(logged).toContainEqual(["swept leftovers of crashed writes", { removed: 2 }]);
    // A dead builder's GC root no longer pins its paths; a live process's root stays.
    expect(readdirSync(join(dataDir, "gcroots"))).toEqual([ownRoot]);
    expect(logged).toContainEqual(["released GC roots of builders that died", { roots: 1 }]);
  });
});
