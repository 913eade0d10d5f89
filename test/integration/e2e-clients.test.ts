import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { podman, skopeo, startContainerd, type Containerd } from "../support/clients.ts";
import { TESTPKGS } from "../support/nix.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";

// The all-in-one server over nix/testpkgs, pulled from by real registry clients over loopback.
let registry: RunningRegistry;
let containerd: Containerd;
const run = podman();

beforeAll(async () => {
  [registry, containerd] = await Promise.all([startRegistry(), startContainerd()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), containerd?.stop()]);
});

const inspect = async (name: string) => {
  const r = await skopeo(["inspect", "--tls-verify=false", `docker://${registry.host}/${name}`]);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as { Digest: string; Layers: string[]; Labels: Record<string, string>; Env: string[] };
};

describe("real clients against npm start", () => {
  it("podman runs hello and it prints Hello, world!", async () => {
    const r = await run(["run", "--rm", "--tls-verify=false", `${registry.host}/hello:latest`, "hello"]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout).toBe("Hello, world!\n");
  });

  it("shell/<pkg> gives a working shell with the package on PATH", async () => {
    const r = await run(["run", "--rm", "--tls-verify=false", `${registry.host}/shell/jq:latest`, "bash", "-c", "command -v jq && jq --version && ls /bin/ls && echo ok"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\/bin\/jq\n/);
    expect(r.stdout.trim().endsWith("ok")).toBe(true);
  });

  it("skopeo inspects and copies an image; the copy's layers re-hash to their digests", async () => {
    const info = await inspect("git:latest");
    expect(info.Digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(info.Labels["nixport.packages"]).toBe("git");
    expect(info.Env.some((e) => e.startsWith("PATH="))).toBe(true);
    const dest = mkdtempSync(join(tmpdir(), "nixport-copy-"));
    const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${registry.host}/git:latest`, `oci:${dest}:git`]);
    expect(copy.code, copy.stderr).toBe(0);
    // skopeo verifies every blob's digest while copying; a mismatch fails the copy.
    expect(copy.stdout).toContain("Writing manifest to image destination");
  });

  it("one image has one digest whatever order its packages were named in", async () => {
    const a = await inspect("hello/jq/less:latest");
    const b = await inspect("less/hello/jq/hello:latest");
    expect(a.Digest).toBe(b.Digest);
  });

  it("containerd pulls (HEAD first, then by digest) and unpacks the image", async () => {
    const r = await containerd.ctr(["images", "pull", "--plain-http", `${registry.host}/hello:latest`]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const list = await containerd.ctr(["images", "ls", "-q"]);
    expect(list.stdout).toContain(`${registry.host}/hello:latest`);
    const check = await containerd.ctr(["images", "check"]);
    expect(check.stdout).toMatch(/complete/);
  });

  it("an unknown package is named in the client's error", async () => {
    const r = await skopeo(["inspect", "--tls-verify=false", `docker://${registry.host}/hello/nosuchpkg:latest`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("nosuchpkg");
    expect(r.stderr).toMatch(/manifest unknown/);
  });

  it("a local package set answers any tag but latest 404 MANIFEST_UNKNOWN; the landing page names it by its folder", async () => {
    const r = await fetch(`${registry.url}/v2/hello/manifests/v1`, { headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("MANIFEST_UNKNOWN");
    const page = await (await fetch(`${registry.url}/`)).text();
    expect(page).toContain("path testpkgs");
    expect(page).not.toContain(TESTPKGS);
  });

  it("a package that fails to build carries its log tail into the client's error", async () => {
    const r = await run(["pull", "--tls-verify=false", `${registry.host}/broken:latest`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("500");
    expect(r.stderr).toContain("error: this package is broken on purpose");
    expect(r.stderr).toMatch(/broken-1\.0\.drv/);
  });
});
