import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { podman, skopeo, startContainerd } from "../support/clients.ts";
import { startDockerd } from "../support/docker.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { connectBuilder } from "../../edge/builder/connect.ts";
import { Architecture, BuilderService } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";

// NIXPORT_PLATFORMS=linux/amd64,linux/arm64 on the all-in-one server: a pull by tag of a
// name without an architecture answers an image index of both, built for real (arm64 under
// qemu-user, `nix/setup-host.sh --arm64`), and each client gets its platform. Only hello
// and a tiny failing package: every arm64 build step runs under emulation.
let registry: RunningRegistry;
const run = podman();

const TOKEN = "index-test-token";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

beforeAll(async () => {
  registry = await startRegistry({ NIXPORT_PLATFORMS: "linux/amd64,linux/arm64", NIXPORT_BUILDER_TOKEN: TOKEN, NIXPORT_GRPC_HOST: "127.0.0.1" });
}, 60_000);
afterAll(async () => {
  await registry?.stop();
});

const ROOT = new URL("../..", import.meta.url).pathname;
const cli = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [`${ROOT}builder/cli/bin.mjs`, "--builder", `127.0.0.1:${registry.grpcPort}`, "--token", TOKEN, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    ),
  );

const get = (path: string, accept: string) => fetch(`http://${registry.host}/v2/${path}`, { headers: { accept } });

/** The digest `name` (one platform's image) answers in `format`. */
async function digestOf(name: string, format: string): Promise<string> {
  const r = await get(`${name}/manifests/latest`, format);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe(format);
  return r.headers.get("docker-content-digest")!;
}

interface Index {
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; platform: { architecture: string; os: string; variant?: string } }[];
}

describe("an image index of every configured platform", () => {
  it("lists amd64 and arm64 with the digests of amd64/hello and arm64/hello, OCI or Docker as Accept asks", async () => {
    const r = await get("hello/manifests/latest", `${OCI_INDEX}, ${OCI_MANIFEST}, ${DOCKER_MANIFEST}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe(OCI_INDEX);
    const bytes = new Uint8Array(await r.arrayBuffer());
    const index = JSON.parse(new TextDecoder().decode(bytes)) as Index;
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ]);
    expect(index.manifests.map((m) => m.digest)).toEqual([await digestOf("amd64/hello", OCI_MANIFEST), await digestOf("arm64/hello", OCI_MANIFEST)]);
    // The index again by its digest: the same bytes, which the builder stored for every edge.
    const digest = r.headers.get("docker-content-digest")!;
    const again = await get(`hello/manifests/${digest}`, OCI_INDEX);
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(bytes);
    const files = readdirSync(registry.dataDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(`blobs/sha256/${digest.slice(7)}`));
    expect(files).toHaveLength(1);
    expect(readFileSync(join(registry.dataDir, files[0]!))).toEqual(Buffer.from(bytes));

    const list = (await (await get("hello/manifests/latest", `${DOCKER_LIST}, ${DOCKER_MANIFEST}`)).json()) as Index;
    expect(list.mediaType).toBe(DOCKER_LIST);
    expect(list.manifests.map((m) => m.digest)).toEqual([await digestOf("amd64/hello", DOCKER_MANIFEST), await digestOf("arm64/hello", DOCKER_MANIFEST)]);
  }, 600_000);

  it("serves the index's referrers: each platform's SBOM and provenance, with the index as subject and the platform named", async () => {
    const digest = (await get("hello/manifests/latest", OCI_INDEX)).headers.get("docker-content-digest")!;
    const referrers = async (subject: string, query = "") => {
      const r = await fetch(`http://${registry.host}/v2/hello/referrers/${subject}${query}`);
      expect(r.status).toBe(200);
      return { filters: r.headers.get("oci-filters-applied"), index: (await r.json()) as { manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] } };
    };
    const { index } = await referrers(digest);
    expect(index.manifests.map((m) => `${m.artifactType} ${m.annotations["io.nixport.platform"]}`).sort()).toEqual([
      "application/spdx+json linux/amd64",
      "application/spdx+json linux/arm64/v8",
      "application/vnd.in-toto+json linux/amd64",
      "application/vnd.in-toto+json linux/arm64/v8",
    ]);
    // Each is an artifact over the platform image's own document, whose subject is the index.
    for (const m of index.manifests) {
      const artifact = (await (await get(`hello/manifests/${m.digest}`, OCI_MANIFEST)).json()) as { subject: { digest: string }; layers: { digest: string }[] };
      expect(artifact.subject.digest).toBe(digest);
      const arch = m.annotations["io.nixport.platform"]!.split("/")[1];
      const own = (await referrers(await digestOf(`${arch}/hello`, OCI_MANIFEST), `?artifactType=${encodeURIComponent(m.artifactType)}`)).index.manifests;
      expect(own).toHaveLength(1);
      const ownArtifact = (await (await get(`hello/manifests/${own[0]!.digest}`, OCI_MANIFEST)).json()) as { layers: { digest: string }[] };
      expect(artifact.layers[0]!.digest).toBe(ownArtifact.layers[0]!.digest);
    }
    const sboms = await referrers(digest, "?artifactType=application%2Fspdx%2Bjson");
    expect(sboms.filters).toBe("artifactType");
    expect(sboms.index.manifests).toHaveLength(2);
  }, 600_000);

  it("gives a client that takes no index the default platform's (amd64) manifest", async () => {
    expect(await digestOf("hello", DOCKER_MANIFEST)).toBe(await digestOf("amd64/hello", DOCKER_MANIFEST));
  }, 600_000);

  it("podman --arch and skopeo --override-arch each get and run their platform", async () => {
    const ref = `${registry.host}/hello:latest`;
    for (const arch of ["arm64", "amd64"]) {
      const r = await run(["run", "--rm", "--arch", arch, "--tls-verify=false", ref, "hello"]);
      expect(r.stdout, r.stderr).toBe("Hello, world!\n");
      const config = await skopeo(["inspect", "--config", "--override-arch", arch, "--tls-verify=false", `docker://${ref}`]);
      expect(JSON.parse(config.stdout)).toMatchObject({ architecture: arch, os: "linux" });
    }
  }, 600_000);

  it("containerd --platform and docker --platform each pull their platform; docker runs the arm64 one", async () => {
    const [containerd, engine] = await Promise.all([startContainerd(), startDockerd()]);
    try {
      const ref = `${registry.host}/hello:latest`;
      const pulled = await containerd.ctr(["images", "pull", "--plain-http", "--platform", "linux/arm64", ref]);
      expect(pulled.code, pulled.stderr + pulled.stdout).toBe(0);
      // It fetched the arm64 manifest of the index, not the amd64 one.
      const content = (await containerd.ctr(["content", "ls", "-q"])).stdout;
      expect(content).toContain(await digestOf("arm64/hello", OCI_MANIFEST));
      expect(content).not.toContain(await digestOf("amd64/hello", OCI_MANIFEST));

      const pull = await engine.docker(["pull", "--platform", "linux/arm64", ref]);
      expect(pull.code, pull.stderr).toBe(0);
      const arch = await engine.docker(["image", "inspect", "--format", "{{.Architecture}}", ref]);
      expect(arch.stdout.trim()).toBe("arm64");
      const r = await engine.docker(["run", "--rm", "--network", "none", "--platform", "linux/arm64", ref, "hello"]);
      expect(r.stdout, r.stderr).toBe("Hello, world!\n");
    } finally {
      await Promise.all([containerd.stop(), engine.stop()]);
    }
  }, 600_000);

  it("fails the pull with the failing platform's error, named, when one platform does not build", async () => {
    const r = await get("x86only/manifests/latest", OCI_INDEX);
    expect(r.status).toBe(500);
    const body = (await r.json()) as { errors: { code: string; message: string; detail: { platform: string; logTail?: string } }[] };
    expect(body.errors[0]).toMatchObject({ code: "BUILD_FAILED", message: "linux/arm64: the image failed to build", detail: { platform: "linux/arm64" } });
    expect(body.errors[0]!.detail.logTail).toContain("does not build for aarch64");
    // Its amd64 image builds: only the index (and arm64/x86only) fails.
    expect((await get("amd64/x86only/manifests/latest", OCI_MANIFEST)).status).toBe(200);
  }, 600_000);

  it("the builder reports the systems its Nix builds: its own and extra-platforms' aarch64-linux", async () => {
    const builder = connectBuilder({ baseUrl: `http://127.0.0.1:${registry.grpcPort}`, token: TOKEN });
    expect(await builder.systems!()).toEqual(expect.arrayContaining(["aarch64-linux", "x86_64-linux"]));
  });

  it("a platform no builder's Nix builds fails the index pull, named, and leaves the other platform's name working", async () => {
    // This server's Nix has no extra-platforms: it builds x86_64-linux alone.
    const amd64Only = await startRegistry({ NIXPORT_PLATFORMS: "linux/amd64,linux/arm64", NIX_CONFIG: "extra-platforms =" });
    try {
      const r = await fetch(`${amd64Only.url}/v2/hello/manifests/latest`, { headers: { accept: OCI_INDEX } });
      expect(r.status).toBe(503);
      const body = (await r.json()) as { errors: { code: string; message: string; detail: { platform: string } }[] };
      expect(body.errors[0]).toMatchObject({ code: "UNAVAILABLE", message: "linux/arm64: the builder is unavailable: no builder builds linux/arm64 (Nix system aarch64-linux)", detail: { platform: "linux/arm64" } });
      expect((await fetch(`${amd64Only.url}/v2/amd64/hello/manifests/latest`, { headers: { accept: OCI_MANIFEST } })).status).toBe(200);
    } finally {
      await amd64Only.stop();
    }
  }, 600_000);

  it("every event of a build's gRPC stream names its platform", async () => {
    const client = createClient(BuilderService, createConnectTransport({ baseUrl: `http://127.0.0.1:${registry.grpcPort}`, httpVersion: "1.1" }));
    const platforms = new Set<string>();
    for await (const ev of client.build({ packages: ["hello"], architecture: Architecture.ARM64 }, { headers: { authorization: `Bearer ${TOKEN}` } })) platforms.add(ev.platform);
    expect([...platforms]).toEqual(["linux/arm64"]);
  }, 600_000);

  it("nixport-build --arch amd64,arm64 builds both, each digest, progress line and error named by platform", async () => {
    const both = await cli("--arch", "amd64,arm64", "hello");
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toBe(`linux/amd64 ${await digestOf("amd64/hello", DOCKER_MANIFEST)}\nlinux/arm64 ${await digestOf("arm64/hello", DOCKER_MANIFEST)}\n`);
    expect(both.stderr).toMatch(/^linux\/arm64: done: /m);
    expect(both.stderr).toMatch(/^linux\/amd64: done: /m);

    const one = await cli("--arch", "amd64,arm64", "x86only");
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(/^linux\/amd64 sha256:[a-f0-9]{64}\n$/);
    expect(one.stderr).toMatch(/^nixport-build: linux\/arm64: /m);
    expect(one.stderr).not.toMatch(/^nixport-build: linux\/amd64: /m);
    expect(one.stderr).toContain("does not build for aarch64");
  }, 600_000);
});

describe("WriteIndex", () => {
  it("refuses an index over a manifest the store does not hold, or a type that is no index", async () => {
    const builder = connectBuilder({ baseUrl: `http://127.0.0.1:${registry.grpcPort}`, token: TOKEN });
    const missing = { arch: "arm64" as const, mediaType: OCI_MANIFEST, digest: `sha256:${"0".repeat(64)}`, size: 10 };
    await expect(builder.writeIndex!(OCI_INDEX, [missing])).rejects.toMatchObject({ kind: "invalid_argument", message: `manifest ${missing.digest} is not in the store` });
    await expect(builder.writeIndex!(OCI_MANIFEST as typeof OCI_INDEX, [missing])).rejects.toMatchObject({ kind: "invalid_argument" });
  });
});
