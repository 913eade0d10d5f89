import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createClient, ConnectError, Code } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { BuilderService, ErrorDetailSchema, ErrorKind, Phase } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";
import { BuildError } from "../../common/build-error.ts";
import { startGrpcServer, type RunningGrpcServer } from "../../builder/grpc/server.ts";
import type { BuilderBackend, ImageSpec } from "../../builder/service/types.ts";
import { authMetadata, builderClient, callError, errorDetail, healthClient, type WireBuildEvent } from "../../builder/cli/grpc-client.ts";

// The protocol layer: one implementation served as gRPC, gRPC-web and Connect, with auth and
// error mapping. The backend is scripted here; builds with real Nix are tested in builder-e2e.
const TOKEN = "s3cret-token";
const calls: ImageSpec[] = [];
const backend: BuilderBackend = {
  serving: () => true,
  async build(spec, onEvent) {
    calls.push(spec);
    if (spec.packages.includes("bug")) (undefined as unknown as { x: number }).x;
    if (spec.packages.includes("nope")) throw new BuildError("not_found", "unknown packages: nope, nada", { unknownPackages: ["nope", "nada"] });
    if (spec.packages.includes("broken")) {
      throw new BuildError("build_failed", "build of /nix/store/x-broken.drv failed", { derivation: "/nix/store/x-broken.drv", logTail: "error: broken on purpose" });
    }
    onEvent({ type: "phase", phase: "realising", message: "nix-build" });
    onEvent({ type: "log", line: "building hello" });
    onEvent({ type: "layer", index: 1, count: 1, digest: "sha256:" + "a".repeat(64), size: 123, reused: false, storePaths: 3 });
    const content = new TextEncoder().encode('{"schemaVersion":2}');
    return { manifests: [{ content, digest: "sha256:" + "b".repeat(64), mediaType: "application/vnd.oci.image.manifest.v1+json", size: content.length }], revision: "r1", immutable: false, packages: spec.packages };
  },
  async checkPackages(names) {
    return { resolved: names.filter((n) => n !== "nope"), unknown: names.filter((n) => n === "nope") };
  },
};

let server: RunningGrpcServer;
let address: string;
const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
beforeAll(async () => {
  server = await startGrpcServer(backend, { port: 0, token: TOKEN, host: "127.0.0.1", log: (msg, fields) => logged.push({ msg, fields }) });
  address = `127.0.0.1:${server.port}`;
});
afterAll(() => server.close());

type GrpcRequest = Parameters<ReturnType<typeof builderClient>["build"]>[0];

function grpcBuild(what: string[] | GrpcRequest, token?: string): Promise<{ events: WireBuildEvent[]; error?: grpc.ServiceError }> {
  const client = builderClient(address);
  return new Promise((resolve) => {
    const events: WireBuildEvent[] = [];
    const call = client.build({ ...(Array.isArray(what) ? { packages: what } : what), tag: "latest" }, authMetadata(token));
    call.on("data", (e: WireBuildEvent) => events.push(e));
    call.on("error", (error: grpc.ServiceError) => (client.close(), resolve({ events, error })));
    call.on("end", () => (client.close(), resolve({ events })));
  });
}

describe("builder gRPC server", () => {
  it("streams ordered events ending with the manifest to a grpc-js client", async () => {
    const { events, error } = await grpcBuild(["hello"], TOKEN);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.event)).toEqual(["phase", "log", "layer", "done"]);
    expect(events[0]!.phase!.phase).toBe("PHASE_REALISING");
    expect(events[2]!.layer).toMatchObject({ index: 1, count: 1, size: "123", storePaths: 3 });
    expect(events[3]!.done!.manifests[0]!.digest).toBe("sha256:" + "b".repeat(64));
    expect(events[3]!.done!.manifests[0]!.content.toString()).toBe('{"schemaVersion":2}');
  });

  it("refuses calls without the token, or with a wrong one, before anything runs", async () => {
    const before = calls.length;
    for (const token of [undefined, "wrong"]) {
      const { events, error } = await grpcBuild(["hello"], token);
      expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(events).toEqual([]);
    }
    expect(calls.length).toBe(before);
  });

  it("maps unknown packages to NOT_FOUND with every name in the detail", async () => {
    const { error } = await grpcBuild(["hello", "nope"], TOKEN);
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(errorDetail(error!)?.unknownPackages).toEqual(["nope", "nada"]);
  });

  it("maps a failed build to FAILED_PRECONDITION with derivation and log tail", async () => {
    const { error } = await grpcBuild(["broken"], TOKEN);
    expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(errorDetail(error!)).toMatchObject({ derivation: "/nix/store/x-broken.drv", logTail: "error: broken on purpose" });
  });

  it("reads an image name as a pull does: meta-packages, prefixes, any order; ImageDone names the image", async () => {
    const { events, error } = await grpcBuild({ image: "git/shell/arm64/git" }, TOKEN);
    expect(error).toBeUndefined();
    expect(calls.at(-1)).toMatchObject({ arch: "arm64", packages: ["bashinteractive", "coreutils", "git", "moreutils", "nano"], formats: "both", compression: "gzip" });
    expect(events.at(-1)!.done!.image).toBe("arm64/bashinteractive/coreutils/git/moreutils/nano");
  });

  it("reads the nonroot/ prefix of an image name, and names the image with it", async () => {
    const { events, error } = await grpcBuild({ image: "git/nonroot/arm64" }, TOKEN);
    expect(error).toBeUndefined();
    expect(calls.at(-1)).toMatchObject({ arch: "arm64", packages: ["git"], user: "nonroot" });
    expect(events.at(-1)!.done!.image).toBe("arm64/nonroot/git");
  });

  it.each([
    [{ image: "Git" }, /^invalid image name: invalid path component "Git"/],
    [{ image: "amd64/arm64/git" }, /^invalid image name: conflicting architectures amd64 and arm64$/],
    [{ image: "git", packages: ["htop"] }, /^give either packages or an image name, not both$/],
    [{ image: "arm64/git", architecture: "ARCHITECTURE_AMD64" }, /^architecture amd64 conflicts with the image name, which means arm64$/],
  ])("refuses the image request %j as INVALID_ARGUMENT in plain words", async (request, message) => {
    const before = calls.length;
    const { error } = await grpcBuild(request, TOKEN);
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(callError(error!).message).toMatch(message);
    expect(errorDetail(error!)?.kind).toBe(ErrorKind.INVALID_ARGUMENT);
    expect(calls.length).toBe(before);
  });

  it("carries the error's kind and plain message in the detail, decoded with the generated schema", async () => {
    const { error } = await grpcBuild(["nope"], TOKEN);
    expect(errorDetail(error!)).toMatchObject({ kind: ErrorKind.NOT_FOUND, message: "unknown packages: nope, nada" });
    expect(callError(error!).message).toBe("unknown packages: nope, nada");
  });

  it("answers a bug in the builder as INTERNAL, without its internals, and logs it as a bug with its stack", async () => {
    const { error } = await grpcBuild(["bug"], TOKEN);
    expect(error?.code).toBe(grpc.status.INTERNAL);
    expect(callError(error!).message).toBe("internal error in the builder");
    expect(errorDetail(error!)?.kind).toBe(ErrorKind.INTERNAL);
    const bug = logged.find((l) => l.msg === "bug: internal error");
    expect(String(bug?.fields?.error)).toMatch(/TypeError[\s\S]*grpc-server\.test\.ts/);
  });

  it("refuses zstd layers in a Docker manifest as INVALID_ARGUMENT", async () => {
    const client = createClient(BuilderService, createConnectTransport({ baseUrl: `http://${address}`, httpVersion: "1.1" }));
    const stream = client.build({ packages: ["hello"], compression: 2, manifestFormat: 1 }, { headers: { authorization: `Bearer ${TOKEN}` } });
    await expect((async () => { for await (const _ of stream); })()).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("refuses bad image settings as INVALID_ARGUMENT naming the field, before the build starts", async () => {
    const before = calls.length;
    const client = createClient(BuilderService, createConnectTransport({ baseUrl: `http://${address}`, httpVersion: "1.1" }));
    const stream = client.build({ packages: ["hello"], settings: { user: "no body" } }, { headers: { authorization: `Bearer ${TOKEN}` } });
    await expect((async () => { for await (const _ of stream); })()).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/^settings\.user: /) });
    expect(calls.length).toBe(before);
  });

  for (const [name, transport] of [
    ["Connect", () => createConnectTransport({ baseUrl: `http://${address}`, httpVersion: "1.1" })],
    ["gRPC-web", () => createGrpcWebTransport({ baseUrl: `http://${address}`, httpVersion: "1.1" })],
  ] as const) {
    it(`serves the same service as ${name} over HTTP/1.1`, async () => {
      const client = createClient(BuilderService, transport());
      const kinds: string[] = [];
      let phase: Phase | undefined;
      for await (const ev of client.build({ packages: ["hello"] }, { headers: { authorization: `Bearer ${TOKEN}` } })) {
        kinds.push(ev.event.case ?? "none");
        if (ev.event.case === "phase") phase = ev.event.value.phase;
      }
      expect(kinds).toEqual(["phase", "log", "layer", "done"]);
      expect(phase).toBe(Phase.REALISING);
      const err = await (async () => {
        try {
          for await (const _ of client.build({ packages: ["nope"] }, { headers: { authorization: `Bearer ${TOKEN}` } }));
        } catch (e) {
          return e as ConnectError;
        }
      })();
      expect(err?.code).toBe(Code.NotFound);
      expect(err?.findDetails(ErrorDetailSchema)[0]?.unknownPackages).toEqual(["nope", "nada"]);
      const check = await client.checkPackages({ packages: ["hello", "nope"] }, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(check.unknown).toEqual(["nope"]);
    });
  }

  it("answers the standard health check without a token", async () => {
    const client = healthClient(address);
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      client.check({ service: "" }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    client.close();
    expect(res.status).toBe("SERVING");
  });
});
