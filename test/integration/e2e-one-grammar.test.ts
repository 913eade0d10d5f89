import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";

// One name grammar for every caller: the CLI (gRPC) and a pull through the edge name the same
// image the same way, and get the same manifest digest.
const ROOT = new URL("../..", import.meta.url).pathname;
const TOKEN = "grammar-t0ken";
const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";

let registry: RunningRegistry;
beforeAll(async () => {
  registry = await startRegistry({ NIXPORT_BUILDER_TOKEN: TOKEN, NIXPORT_GRPC_HOST: "127.0.0.1" });
});
afterAll(() => registry?.stop());

const cli = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [`${ROOT}builder/cli/bin.mjs`, "--builder", `127.0.0.1:${registry.grpcPort}`, "--token", TOKEN, "--registry", registry.host, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    ),
  );

async function pulledDigest(name: string): Promise<string> {
  const res = await fetch(`${registry.url}/v2/${name}/manifests/latest`, { headers: { Accept: DOCKER } });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.headers.get("Docker-Content-Digest")!;
}

describe("one name grammar from the CLI and from a pull", () => {
  it("nixport-build shell/git/htop gives the digest a pull of shell/git/htop gets, and prints the reference to pull", async () => {
    const built = await cli("shell/git/htop");
    expect(built.code, built.stderr).toBe(0);
    const digest = built.stdout.trim();
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(built.stderr).toContain(`pull: ${registry.host}/bashinteractive/coreutils/git/htop/moreutils/nano:latest`);
    expect(await pulledDigest("htop/shell/git")).toBe(digest);
    // The printed reference pulls that image too.
    expect(await pulledDigest("bashinteractive/coreutils/git/htop/moreutils/nano")).toBe(digest);
  });

  it("a camelCase attribute path from the CLI is the image its lowercase pull name gets", async () => {
    const built = await cli("bashInteractive");
    expect(built.code, built.stderr).toBe(0);
    expect(await pulledDigest("bashinteractive")).toBe(built.stdout.trim());
  });

  it("prints a refusal in plain words, not the wire's percent-encoding", async () => {
    const refused = await cli("shell/nosuch");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("nixport-build: unknown packages: nosuch");
    expect(refused.stderr).not.toContain("%3A");
  });
});
