import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testpkgsWith } from "../support/nix.ts";
import { startRegistry } from "../support/registry.ts";

const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";

describe("npm start on SIGTERM", () => {
  it("lets an in-flight build finish and answer, then exits", async () => {
    // A package that takes a few seconds to build and has never been built (a per-run seed).
    const seed = randomBytes(6).toString("hex");
    const dir = mkdtempSync(join(tmpdir(), "nixport-slow-"));
    testpkgsWith(
      dir,
      `  slowish = t.lib.mkPkg { pname = "slowish"; version = "1"; description = "takes a while"; deps = [ t.hello ];
    script = "sleep 3; mkdir -p $out/share; echo ${seed} > $out/share/seed"; };`,
    );
    const registry = await startRegistry({ NIXPORT_PKGS_PATH: dir });
    const pull = fetch(`${registry.url}/v2/slowish/manifests/latest`, { headers: { Accept: DOCKER } });
    const deadline = Date.now() + 20_000;
    while (!registry.logs().includes('"build started"')) {
      if (Date.now() > deadline) throw new Error(`build never started:\n${registry.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(registry.logs()).not.toContain('"build done"');
    const stopped = registry.stop();
    const res = await pull;
    expect(res.status, registry.logs()).toBe(200);
    expect(res.headers.get("Docker-Content-Digest")).toMatch(/^sha256:/);
    await stopped;
    expect(registry.logs()).toContain("shutting down");
    expect(registry.logs()).toContain('"build done"');
  });
});
