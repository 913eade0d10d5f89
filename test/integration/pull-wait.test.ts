import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testpkgsWith } from "../support/nix.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";

// The all-in-one registry (real Nix) with a pull wait of 1 s and a package whose build takes 4.
let registry: RunningRegistry;

beforeAll(async () => {
  const pkgs = mkdtempSync(join(tmpdir(), "nixport-pullwait-"));
  testpkgsWith(
    pkgs,
    `  # New for every run (the nonce), so Nix really builds it each time.
  pause = t.lib.mkPkg { pname = "pause"; version = "1"; description = "sleeps a little"; script = "sleep 4 # ${randomUUID()}"; };`,
  );
  registry = await startRegistry({ NIXPORT_PKGS_PATH: pkgs, NIXPORT_PULL_WAIT_SECONDS: "1" });
}, 60_000);
afterAll(() => registry?.stop());

const manifest = () => fetch(`${registry.url}/v2/pause/manifests/latest`, { headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });

describe("the all-in-one registry with real Nix", () => {
  it("answer 503 with Retry-After past the pull wait; the build goes on and a later pull gets it from that one Nix run", async () => {
    const first = await manifest();
    expect(first.status).toBe(503);
    expect(Number(first.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await first.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]!.code).toBe("UNAVAILABLE");
    expect(body.errors[0]!.message).toMatch(/still being built/);
    // Pull again as a client would, until the image is there (bounded).
    let res = first;
    for (let i = 0; i < 60 && res.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 500));
      res = await manifest();
    }
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toMatch(/^sha256:/);
    const started = registry.logs().split("\n").filter((l) => l.includes('"build started"') && l.includes("pause"));
    expect(started, registry.logs()).toHaveLength(1);
  });

  it("tags/list answers NAME_UNKNOWN for a name whose packages do not exist (the builder checks, nothing is built)", async () => {
    const unknown = await fetch(`${registry.url}/v2/hello/nosuchpkg/tags/list`);
    expect(unknown.status).toBe(404);
    const body = (await unknown.json()) as { errors: { code: string; detail: { unknownPackages: string[] } }[] };
    expect(body.errors[0]!.code).toBe("NAME_UNKNOWN");
    expect(body.errors[0]!.detail.unknownPackages).toEqual(["nosuchpkg"]);
    const known = await fetch(`${registry.url}/v2/hello/tags/list`);
    expect(known.status).toBe(200);
    expect(await known.json()).toEqual({ name: "hello", tags: ["latest"] });
  });
});
