import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { DOCKER_MANIFEST } from "../../edge/routes/media.ts";
import { startDockerd, type Dockerd } from "../support/docker.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";

// The mission statement, literally: the real docker CLI and engine (a private dockerd)
// pull from and run images of the all-in-one server over nix/testpkgs, over loopback.
let registry: RunningRegistry;
let engine: Dockerd;

beforeAll(async () => {
  [registry, engine] = await Promise.all([startRegistry(), startDockerd()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), engine?.stop()]);
  if (registry) rmSync(registry.dataDir, { recursive: true, force: true });
}, 60_000);

const docker = (args: string[]) => engine.docker(args);

/** The digest docker recorded for `ref` on pull (RepoDigests: `name@sha256:…`). */
const repoDigest = async (ref: string) => {
  const r = await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", ref]);
  expect(r.code, r.stderr).toBe(0);
  const name = ref.replace(/:[^/:]*$/, "");
  const entry = (JSON.parse(r.stdout) as string[]).find((d) => d.startsWith(`${name}@`));
  expect(entry, r.stdout).toBeDefined();
  return entry!.slice(name.length + 1);
};

describe("docker against npm start", () => {
  it("docker pull hello, then docker run prints Hello, world!", async () => {
    const pull = await docker(["pull", `${registry.host}/hello`]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${registry.host}/hello:latest`);
    const r = await docker(["run", "--rm", "--network", "none", `${registry.host}/hello`, "hello"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("Hello, world!\n");
  });

  it("the pulled image's RepoDigest is the registry's Docker-Content-Digest for the tag", async () => {
    const pull = await docker(["pull", `${registry.host}/hello:latest`]);
    expect(pull.code, pull.stderr).toBe(0);
    const head = await fetch(`${registry.url}/v2/hello/manifests/latest`, { method: "HEAD", headers: { Accept: DOCKER_MANIFEST } });
    expect(head.status).toBe(200);
    const digest = head.headers.get("docker-content-digest");
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await repoDigest(`${registry.host}/hello:latest`)).toBe(digest);
    expect(pull.stdout).toContain(`Digest: ${digest}`);
  });

  it("docker run of shell/git: a shell with git on PATH", async () => {
    const r = await docker(["run", "--rm", "--network", "none", `${registry.host}/shell/git`, "git", "--version"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^git \d+\.\d+/);
    const sh = await docker(["run", "--rm", "--network", "none", `${registry.host}/shell/git`, "bash", "-c", "command -v git && echo ok"]);
    expect(sh.code, sh.stderr).toBe(0);
    expect(sh.stdout).toBe("/bin/git\nok\n");
  });

  it("shell/git and git/shell pull as one image with one digest", async () => {
    for (const name of ["shell/git", "git/shell"]) {
      const r = await docker(["pull", `${registry.host}/${name}`]);
      expect(r.code, r.stderr).toBe(0);
    }
    const [a, b] = [await repoDigest(`${registry.host}/shell/git:latest`), await repoDigest(`${registry.host}/git/shell:latest`)];
    expect(a).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(b).toBe(a);
    const ids = await docker(["image", "inspect", "--format", "{{.Id}}", `${registry.host}/shell/git`, `${registry.host}/git/shell`]);
    const [idA, idB] = ids.stdout.trim().split("\n");
    expect(idB).toBe(idA);
  });

  it("docker pull of B after A fetches only B's layers after the prefix the two share", async () => {
    // Docker's classic store reuses a layer only when every layer before it matches (its
    // ChainID): what it skips is exactly the shared prefix of the two manifests' layer lists.
    const layers = async (name: string) => {
      const r = await fetch(`${registry.url}/v2/${name}/manifests/latest`, { headers: { Accept: DOCKER_MANIFEST } });
      expect(r.status).toBe(200);
      return ((await r.json()) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
    };
    const [a, b] = ["shell/git", "shell/git/htop"];
    const pullA = await docker(["pull", `${registry.host}/${a}`]);
    expect(pullA.code, pullA.stderr).toBe(0);
    const [la, lb] = [await layers(a), await layers(b)];
    let prefix = 0;
    while (prefix < la.length && la[prefix] === lb[prefix]) prefix++;
    // Adding a package leaves most of A's layers at the front of B, in place.
    expect(prefix).toBeGreaterThanOrEqual(la.length / 2);
    const pullB = await docker(["pull", `${registry.host}/${b}`]);
    expect(pullB.code, pullB.stderr).toBe(0);
    // The last line on each layer, by short digest: "0123456789ab: Already exists" or "…: Pull complete".
    const status = (digest: string) => [...pullB.stdout.matchAll(new RegExp(`^${digest.slice(7, 19)}: (.*)$`, "gm"))].pop()?.[1];
    expect(lb.slice(0, prefix).map(status), pullB.stdout).toEqual(lb.slice(0, prefix).map(() => "Already exists"));
    expect(lb.slice(prefix).map(status), pullB.stdout).toEqual(lb.slice(prefix).map(() => "Pull complete"));
  });

  it("docker pull of an unknown package fails, naming the package", async () => {
    const r = await docker(["pull", `${registry.host}/hello/nosuchpkg`]);
    expect(r.code).not.toBe(0);
    // The registry's own words, not just the image name echoed back.
    expect(r.stderr).toMatch(/manifest unknown: .*nosuchpkg/);
  });

  it("docker pull of a package that fails to build carries the build failure", async () => {
    const r = await docker(["pull", `${registry.host}/broken`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("500");
    expect(r.stderr).toMatch(/Build failed/i);
    expect(r.stderr).toContain("error: this package is broken on purpose");
    expect(r.stderr).toMatch(/broken-1\.0\.drv/);
  });
});
