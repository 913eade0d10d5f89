import { execFile } from "node:child_process";
import { join } from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuilderService, ImageSettingsSchema } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";
import { authMetadata, builderClient, callError, type WireBuildEvent, type WireSettings } from "../../builder/cli/grpc-client.ts";
import { podman, skopeo } from "../support/clients.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";

// What every image holds, checked by running images with podman; image settings given
// through grpc-js, Connect and the CLI, then pulled by digest.
const TOKEN = "images-t0ken";
const ROOT = new URL("../..", import.meta.url).pathname;
let registry: RunningRegistry;
const run = podman();

beforeAll(async () => {
  registry = await startRegistry({ NIXPORT_BUILDER_TOKEN: TOKEN });
}, 60_000);
afterAll(() => registry?.stop());

/** Runs a command in an image; expects it to succeed and returns its stdout. */
async function inImage(image: string, command: string[], flags: string[] = []): Promise<string> {
  const r = await run(["run", "--rm", "--tls-verify=false", ...flags, `${registry.host}/${image}`, ...command]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

const sh = (image: string, script: string, flags: string[] = []) => inImage(image, ["sh", "-c", script], flags);

async function imageConfig(ref: string): Promise<{ config: Record<string, unknown> }> {
  const r = await skopeo(["inspect", "--tls-verify=false", "--config", `docker://${registry.host}/${ref}`]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("every image", () => {
  it("runs as root, whose name and groups resolve", async () => {
    expect(await inImage("busybox", ["id"])).toBe("uid=0(root) gid=0(root)\n");
    expect(await sh("busybox", "whoami; id -gn")).toBe("root\nroot\n");
  });

  it("has root, nonroot and nobody in /etc/passwd and /etc/group, looked up in files", async () => {
    const out = await sh("busybox", "cat /etc/passwd; echo --; cat /etc/group; echo --; grep -E '^(passwd|group):' /etc/nsswitch.conf");
    const [passwd, group, nss] = out.split("--\n");
    expect(passwd!.split("\n").map((l) => l.split(":").slice(0, 4).join(":"))).toEqual(expect.arrayContaining(["root:x:0:0", "nobody:x:65534:65534", "nonroot:x:65532:65532"]));
    expect(group).toMatch(/^root:x:0:$/m);
    expect(group).toMatch(/^nobody:x:65534:$/m);
    expect(nss).toBe("passwd: files\ngroup: files\n");
  });

  it("has HOME=/root, which exists and root can write, and /tmp with mode 1777", async () => {
    expect(await sh("busybox", 'echo "$HOME"; touch "$HOME/x" && echo written; stat -c %a /tmp')).toBe("/root\nwritten\n1777\n");
  });

  it("resolves other users by name too (nobody)", async () => {
    expect(await inImage("busybox", ["id", "-un"], ["--user", "65534"])).toBe("nobody\n");
  });

  it("points SSL_CERT_FILE and NIX_SSL_CERT_FILE at the CA bundle when the closure has one", async () => {
    expect(await sh("busybox/cacert", 'head -c 11 "$SSL_CERT_FILE"; echo; test "$NIX_SSL_CERT_FILE" = "$SSL_CERT_FILE" && echo same')).toMatch(/^.+\nsame\n$/);
    expect(await sh("busybox", 'echo "${SSL_CERT_FILE-unset} ${NIX_SSL_CERT_FILE-unset}"')).toBe("unset unset\n");
  });

  it("runs its shell by default when it has one", async () => {
    expect((await imageConfig("shell")).config.Cmd).toEqual(["/bin/bash"]);
    expect((await imageConfig("hello")).config.Cmd).toBeUndefined();
  });
});

describe("a nonroot/ image", () => {
  it("runs as nonroot 65532:65532, whose name resolves", async () => {
    expect(await inImage("nonroot/busybox", ["id"])).toMatch(/^uid=65532\(nonroot\) gid=65532\(nonroot\)( groups=65532\(nonroot\))?\n$/);
    expect(await sh("nonroot/busybox", "whoami; id -gn")).toBe("nonroot\nnonroot\n");
  });

  it("has HOME=/home/nonroot, which nonroot can write, and /tmp; /root stays root's", async () => {
    const out = await sh("nonroot/busybox", 'echo "$HOME"; touch "$HOME/x" && echo home; touch /tmp/x && echo tmp; touch /root/x 2>/dev/null || echo "no root"');
    expect(out).toBe("/home/nonroot\nhome\ntmp\nno root\n");
  });

  it("is another image than the root one, with its own digest, whatever the prefix's position", async () => {
    const digest = async (name: string) => {
      const r = await skopeo(["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${registry.host}/${name}`]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    const nonroot = await digest("nonroot/busybox");
    expect(nonroot).not.toBe(await digest("busybox"));
    expect(await digest("busybox/nonroot")).toBe(nonroot);
    expect((await imageConfig("nonroot/busybox")).config).toMatchObject({ User: "65532:65532" });
  });

  it("combines with arm64/: an aarch64 nonroot image (built under qemu-user, nix/setup-host.sh --arm64)", async () => {
    const image = await imageConfig("arm64/nonroot/hello");
    expect(image).toMatchObject({ architecture: "arm64", config: { User: "65532:65532" } });
  }, 600_000);
});

const SETTINGS = {
  entrypoint: ["/bin/sh", "-c"],
  cmd: ['id -un; pwd; echo "$GREETING"'],
  env: ["GREETING=hi there", "PATH=/bin"],
  workingDir: "/tmp",
  user: "nobody",
  labels: { "org.example.team": "infra" },
  exposedPorts: ["8080", "53/udp"],
} satisfies WireSettings;

function grpcBuild(packages: string[], settings: WireSettings, nonroot = false): Promise<{ digest?: string; error?: grpc.ServiceError }> {
  const client = builderClient(`127.0.0.1:${registry.grpcPort}`);
  return new Promise((resolve) => {
    let digest: string | undefined;
    const call = client.build({ packages, tag: "latest", settings, nonroot }, authMetadata(TOKEN));
    call.on("data", (e: WireBuildEvent) => e.event === "done" && (digest = e.done!.manifests[0]!.digest));
    call.on("error", (error: grpc.ServiceError) => (client.close(), resolve({ error })));
    call.on("end", () => (client.close(), resolve({ digest })));
  });
}

const connect = () =>
  createClient(BuilderService, createConnectTransport({ baseUrl: `http://127.0.0.1:${registry.grpcPort}`, httpVersion: "1.1" }));

async function connectBuild(packages: string[], settings: MessageInitShape<typeof ImageSettingsSchema>): Promise<string> {
  for await (const ev of connect().build({ packages, settings: create(ImageSettingsSchema, settings) }, { headers: { authorization: `Bearer ${TOKEN}` } })) {
    if (ev.event.case === "done") return ev.event.value.manifests[0]!.digest;
  }
  throw new Error("no image");
}

const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [join(ROOT, "builder/cli/bin.mjs"), "--builder", `127.0.0.1:${registry.grpcPort}`, "--token", TOKEN, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    ),
  );

describe("image settings", () => {
  let digest: string;

  it("grpc-js builds an image with settings; podman pulls it by digest and runs it as they say", async () => {
    const r = await grpcBuild(["busybox"], SETTINGS);
    expect(r.error).toBeUndefined();
    digest = r.digest!;
    expect(await inImage(`busybox@${digest}`, [])).toBe("nobody\n/tmp\nhi there\n");
    const { config } = await imageConfig(`busybox@${digest}`);
    expect(config).toMatchObject({ User: "nobody", WorkingDir: "/tmp", ExposedPorts: { "53/udp": {}, "8080/tcp": {} }, Entrypoint: ["/bin/sh", "-c"] });
    expect((config.Labels as Record<string, string>)["org.example.team"]).toBe("infra");
  });

  it("Connect with the same settings in another order gets the same digest; other settings another", async () => {
    const reordered = { ...SETTINGS, env: [...SETTINGS.env].reverse(), exposedPorts: ["53/udp", "8080/tcp"] };
    expect(await connectBuild(["busybox"], reordered)).toBe(digest);
    const other = await connectBuild(["busybox"], { ...SETTINGS, user: "root" });
    expect(other).not.toBe(digest);
    expect(await inImage(`busybox@${other}`, [])).toBe("root\n/tmp\nhi there\n");
  });

  it("grpc-js asking for nonroot gets the image a pull of nonroot/busybox gets", async () => {
    const pulled = await fetch(`${registry.url}/v2/nonroot/busybox/manifests/latest`, { headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" } });
    expect(pulled.status).toBe(200);
    const r = await grpcBuild(["busybox"], {}, true);
    expect(r.error).toBeUndefined();
    expect(r.digest).toBe(pulled.headers.get("docker-content-digest"));
  });

  it("the CLI builds nonroot/busybox as a pull of that name gets it, and names the reference", async () => {
    const pulled = await fetch(`${registry.url}/v2/nonroot/busybox/manifests/latest`, { headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" } });
    const r = await cli(["busybox/nonroot"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(pulled.headers.get("docker-content-digest"));
    expect(r.stderr).toContain("pull: <registry>/nonroot/busybox:latest");
  });

  it("the CLI's flags give the same image", async () => {
    const flags = ["--entrypoint", "/bin/sh", "--entrypoint=-c", "--cmd", SETTINGS.cmd[0]!, "--env", "PATH=/bin", "--env", "GREETING=hi there", "--workdir", "/tmp", "--user", "nobody", "--label", "org.example.team=infra", "--expose", "8080", "--expose", "53/udp"];
    const r = await cli([...flags, "busybox"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(digest);
  });

  it("a bad setting is INVALID_ARGUMENT naming the field, for grpc-js, Connect and the CLI", async () => {
    const r = await grpcBuild(["busybox"], { ...SETTINGS, env: ["GREETING=hi", "1BAD=x"] });
    expect(r.error?.code).toBe(3);
    expect(callError(r.error!).message).toMatch(/^settings\.env\[1\]: /);
    const e = await connectBuild(["busybox"], { exposedPorts: ["99999"] }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    expect((e as ConnectError).rawMessage).toMatch(/^settings\.exposed_ports\[0\]: /);
    const c = await cli(["--workdir", "relative", "busybox"]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain("settings.working_dir: must be an absolute path");
  });
});
